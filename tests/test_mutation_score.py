"""benchmarks/mutation_score.py draws the same sample on every run (issue 13: a score is compared
before and after a change on one sample) and judges mutants by name (--only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mutation_score.py"


def _list(session: Path, *args: str) -> list[str]:
    cmd = [sys.executable, str(SCRIPT), "--session", str(session), "--modules", "inclusion", "--list", *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONSAFEPATH": "1"}
    )
    return done.stdout.splitlines()


def test_the_seeded_sample_is_the_same_on_every_run(tmp_path):
    """cosmic-ray hands pending mutants out in random order (ORDER BY random()): the script sorts
    them before drawing, so --seed draws one sample, in a session and in a fresh one."""
    first = _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "0")
    assert len(first) == 8 and all(name.startswith("inclusion.") for name in first)
    assert _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "0") == first
    assert _list(tmp_path / "b.sqlite", "--sample", "8", "--seed", "0") == first
    assert _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "1") != first


def test_only_judges_the_mutants_named(tmp_path):
    every = _list(tmp_path / "s.sqlite")
    named = tmp_path / "names.txt"
    named.write_text(f"# two of them\n{every[3]} # a comment\n\n{every[0]}\n")
    assert sorted(_list(tmp_path / "s.sqlite", "--only", str(named))) == sorted([every[0], every[3]])
