"""The example database of `--db DIR`: failing runs saved, and replayed first by the next search.

A failing run is its 64-bit run seed (`units.run_seed`), saved under a key naming the pass's setup
(parameters, rule table, adversaries, bounds), in Hypothesis's `DirectoryBasedExampleDatabase`:
one file per example, safe to share between processes. Workers never write it: every failing run
comes back to the driver in its unit's result (`units.Merged.failing_seeds`), locally or from Ray,
and the driver saves it, so one implementation serves both.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from asfl.properties.search.runs import SearchSetup
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase


def open_database(path: Path | str) -> ExampleDatabase:
    return DirectoryBasedExampleDatabase(str(path))


def key(setup: SearchSetup) -> bytes:
    """The database key of a pass: what decides which run a seed draws."""
    what = (
        f"{setup.params!r}|{setup.rules.name}|{','.join(setup.adversaries)}|{setup.max_chaos}|"
        f"{setup.fair_bound}|{setup.swarm}"
    )
    return b"asfl-run-seeds:" + hashlib.sha256(what.encode()).digest()


def saved(db: ExampleDatabase, setup: SearchSetup) -> list[int]:
    """The run seeds saved for this pass, smallest first."""
    return sorted({int.from_bytes(v, "big") for v in db.fetch(key(setup)) if len(v) == 8})


def save(db: ExampleDatabase, setup: SearchSetup, seeds: set[int]) -> None:
    for s in sorted(seeds):
        db.save(key(setup), s.to_bytes(8, "big"))
