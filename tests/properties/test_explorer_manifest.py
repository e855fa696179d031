"""The explorer's manifest: every configuration keeps its state count, depth and verdicts."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "explorer_cases", Path(__file__).with_name("explorer_cases.py")
)
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

CASES = cases.load()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_manifest_case(case: dict) -> None:
    if case.get("slow") and not os.environ.get("ASFL_EXPLORE_SLOW"):
        pytest.skip("slow case: set ASFL_EXPLORE_SLOW=1")
    assert cases.observed(cases.run_case(case)) == case["expect"]


def test_manifest_has_safe_and_broken_cases() -> None:
    broken = [c for c in CASES if c.get("violates")]
    assert {c["condition"] for c in broken} >= {"Q1", "Q2", "Q3", "Q5"}
    for case in broken:
        assert case["expect"]["verdicts"][case["violates"]] == "violated", case["name"]
    for case in CASES:
        if not case.get("allow_unsafe"):
            assert set(case["expect"]["verdicts"].values()) == {"holds"}, case["name"]
