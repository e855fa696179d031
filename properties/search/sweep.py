"""The size sweep: every property judged on a grid of configurations, not only the default (issue 18).

A property that holds at the default sizes may fail one size up: P6's balance did, at n_c=12
(finding F5). `sweep(grid)` takes each configuration of the grid, lets `Params` derive what the
protocol derives (T, m, Q, the cluster sizes) and refuse what breaks Q1-Q6, and runs one search of
every selected property (`runner.search`, the `ci` profile unless told) on the others. Where H1
(the quota room P6's balance needs) fails, P6 is refused with its numbers and the other properties
are still judged. Each refusal names its condition. The result is a manifest,
one row per configuration, like the explorer's `explorer_manifest.json`: the test suite pins a
small part of the grid, and `asfl sweep` runs the whole grid as a campaign.

The Byzantine bound is the largest the resilience assumption allows (`n_a >= 3*t_a + 1`), so a
grid over `n_a` in {4, 7} audits t_a = 1 and t_a = 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from asfl.properties.judge.suite import PROPERTIES, correct_slots_cover
from asfl.properties.search.runner import PROPERTY_ORDER, search
from asfl.properties.search.runs import SearchSetup
from asfl.spec.errors import ParamsError
from asfl.spec.params import Params


@dataclass(frozen=True)
class Grid:
    """The sizes swept (issue 18's grid by default); every other parameter takes its default formula."""

    n_c: tuple[int, ...] = tuple(range(8, 25))
    t_c: tuple[int, ...] = (0, 1, 2)
    n_a: tuple[int, ...] = (4, 7)
    R: tuple[int, ...] = (3, 4, 6)

    def configurations(self) -> list[dict[str, int]]:
        """Every configuration, in a fixed order (n_a, n_c, t_c, R), t_a at the resilience bound."""
        return [
            {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": byzantine_bound(n_a), "R": R}
            for n_a, n_c, t_c, R in product(self.n_a, self.n_c, self.t_c, self.R)
        ]

    def to_json(self) -> dict[str, list[int]]:
        return {"n_c": list(self.n_c), "t_c": list(self.t_c), "n_a": list(self.n_a), "R": list(self.R)}


def byzantine_bound(n_a: int) -> int:
    """The most Byzantine aggregators the resilience assumption allows: n_a >= 3*t_a + 1."""
    return (n_a - 1) // 3


#: the parameters a configuration names; every other one takes its default formula
CONFIG_KEYS = ("n_c", "t_c", "n_a", "t_a", "R")


@dataclass
class Row:
    """One configuration's verdicts: `refused` (with the condition), `held` or `violated`."""

    config: dict[str, int]
    status: str
    derived: dict[str, Any] = field(default_factory=dict)  # T, m, Q, k of the accepted parameters
    condition: str | None = None  # the refused condition's name
    reason: str | None = None  # the refusal's numbers
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    def label(self) -> str:
        c = self.config
        return f"n_c={c['n_c']} t_c={c['t_c']} n_a={c['n_a']} t_a={c['t_a']} R={c['R']}"

    def verdicts(self) -> dict[str, Any]:
        """What the manifest pins: everything but the time, which depends on the machine."""
        out: dict[str, Any] = {"config": self.config, "status": self.status}
        if self.status == "refused":
            out["condition"] = self.condition
            out["reason"] = self.reason
        else:
            out["derived"] = self.derived
            out["properties"] = {
                p: {
                    k: v
                    for k, v in r.items()
                    if k in ("held", "examples", "exercised", "refused", "reason", "victims_exempt")
                }
                for p, r in sorted(self.properties.items())
            }
        return out

    def to_json(self) -> dict[str, Any]:
        out = {**self.verdicts(), "seconds": round(self.seconds, 2)}
        if self.properties:  # the manifest keeps each violation's text and trace beside the verdicts
            out["properties"] = self.properties
        return out

    @classmethod
    def from_json(cls, doc: Any) -> Row:
        """A row of an earlier manifest (`asfl sweep --resume`); ValueError names what is malformed."""
        if not isinstance(doc, dict):
            raise ValueError("a row is not an object")
        config, status = doc.get("config"), doc.get("status")
        if not isinstance(config, dict) or sorted(config) != sorted(CONFIG_KEYS):
            raise ValueError(f"a row's config is not an object of {', '.join(CONFIG_KEYS)}")
        if not all(type(v) is int for v in config.values()):
            raise ValueError(f"a row's config {config} holds a value that is not an integer")
        if status not in ("held", "violated", "refused"):
            raise ValueError(f"a row's status {status!r} is not held, violated or refused")
        derived, props = doc.get("derived", {}), doc.get("properties", {})
        seconds = doc.get("seconds", 0.0)
        if not isinstance(derived, dict) or not isinstance(props, dict):
            raise ValueError("a row's derived values or properties are not an object")
        if not all(isinstance(r, dict) for r in props.values()):
            raise ValueError("a row's property verdict is not an object")
        if type(seconds) not in (int, float) or seconds < 0:
            raise ValueError(f"a row's seconds {seconds!r} is not a non-negative number")
        condition, reason = doc.get("condition"), doc.get("reason")
        return cls(dict(config), status, dict(derived), condition, reason, dict(props), float(seconds))


def sweep_one(
    config: dict[str, int],
    props: Sequence[str] = PROPERTY_ORDER,
    profile: str = "ci",
    max_examples: int | None = None,
    on_trace: Callable[[Row, Any], str] | None = None,
    workers: int | None = 1,
    ray: str | None = None,
) -> Row:
    """Judge `props` at one configuration, or name the condition that refuses it. The verdicts do
    not depend on `workers` or `ray` (search/units.py)."""
    started = time.perf_counter()
    try:
        params = Params(**config)
    except ParamsError as e:
        return Row(config, "refused", condition=e.condition, reason=e.reason)
    derived = {"T": params.T, "m": params.m, "Q": params.Q, "k": list(params.k)}
    row = Row(config, "held", derived)
    room = params.quota_room
    judged = [p for p in props if p != "P6" or room.holds]
    if len(judged) < len(props):  # H1: P6's balance cannot hold here; the others are still judged
        row.properties["P6"] = {"refused": room.name, "reason": room.numbers}
    if not judged:
        row.status = "refused"
        row.condition, row.reason = room.name, room.numbers
        return row
    results = search(SearchSetup(params), judged, profile, max_examples, workers=workers, ray=ray)
    for prop in judged:
        r = results[prop]
        entry: dict[str, Any] = {"held": r.held, "examples": r.examples, "exercised": r.exercised}
        if not r.held:
            row.status = "violated"
            entry["violation"] = str(r.violation)
            entry["trace_length"] = len(r.trace.events) if r.trace is not None else None
            if on_trace is not None and r.trace is not None:
                entry["trace"] = on_trace(row, r)
        if prop == "P6":  # whether a persistent coordinator's victims were exempt (finding F7)
            entry["victims_exempt"] = not correct_slots_cover(params)
        row.properties[prop] = entry
    row.seconds = time.perf_counter() - started
    return row


def sweep(
    configs: Iterable[dict[str, int]],
    props: Sequence[str] = PROPERTY_ORDER,
    profile: str = "ci",
    max_examples: int | None = None,
    on_row: Callable[[Row], None] | None = None,
    on_trace: Callable[[Row, Any], str] | None = None,
    workers: int | None = 1,
    ray: str | None = None,
) -> list[Row]:
    """Every configuration in turn (`sweep_one`); `on_row` sees each row as it is judged."""
    unknown = [p for p in props if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown properties {unknown}")
    rows = []
    for config in configs:
        row = sweep_one(config, props, profile, max_examples, on_trace, workers, ray)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def manifest(
    rows: Sequence[Row],
    grid: dict[str, Any],
    props: Sequence[str],
    profile: str,
    budget: Any,
    protocol: str | None = None,
    complete: bool = True,
    engine: str | None = None,
) -> dict:
    """The sweep's manifest: the grid, the budget, one row per configuration, and a summary.

    `protocol` and `engine` are the spec's and the engine's fingerprints (`traces.itf`), so a
    resumed sweep never mixes verdicts on two protocols or of two engines; `complete` is false while
    the campaign is under way (the manifest is rewritten after every configuration, so an
    interrupted campaign keeps its rows)."""
    counts = {s: sum(r.status == s for r in rows) for s in ("held", "violated", "refused")}
    counts["P6 refused (H1)"] = sum("refused" in r.properties.get("P6", {}) for r in rows)
    return {
        "about": (
            "Size sweep (asfl sweep, properties/search/sweep.py): every property at every configuration "
            "of the grid on the shipped protocol, or the condition that refuses the configuration. "
            "t_a is the largest the resilience assumption n_a >= 3*t_a+1 allows; T, m and Q take "
            "their default formulas."
        ),
        "grid": grid,
        "protocol": protocol,
        "engine": engine,
        "complete": complete,
        "properties": list(props),
        "profile": profile,
        "max_examples": budget,
        "summary": {**counts, "configurations": len(rows), "seconds": round(sum(r.seconds for r in rows), 1)},
        "rows": [r.to_json() for r in rows],
    }
