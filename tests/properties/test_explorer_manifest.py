"""The explorer's manifest: every configuration keeps its state count, depth and verdicts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "explorer_cases", Path(__file__).with_name("explorer_cases.py")
)
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

CASES = cases.load()
#: slow cases (minutes) are held by `python tests/properties/explorer_cases.py --check-slow`,
#: not by the test command, which must stay under 15 minutes on 2 cores
FAST = [c for c in CASES if not c.get("slow")]


@pytest.mark.parametrize("case", FAST, ids=[c["name"] for c in FAST])
def test_manifest_case(case: dict) -> None:
    assert cases.observed(cases.run_case(case)) == case["expect"]


def test_manifest_has_safe_and_broken_cases() -> None:
    broken = [c for c in CASES if c.get("violates")]
    assert {c["condition"] for c in broken} >= {"Q1", "Q2", "Q3", "Q5"}
    for case in broken:
        assert case["expect"]["verdicts"][case["violates"]] == "violated", case["name"]
    for case in CASES:
        if not case.get("allow_unsafe"):
            assert set(case["expect"]["verdicts"].values()) == {"holds"}, case["name"]
