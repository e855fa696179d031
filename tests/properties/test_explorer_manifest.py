"""The explorer's manifest: every configuration keeps its state count, depth and verdicts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from asfl.properties.judge.monitor import monitor_worlds
from asfl.properties.judge.suite import PROPERTIES, STATE_PROPERTIES, Run, judge_state

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


#: paths per case whose verdict both drivers must agree on (all the states of the smaller cases)
PATHS_PER_CASE = 100


@pytest.mark.parametrize("case", FAST, ids=[c["name"] for c in FAST])
def test_manifest_case(case: dict) -> None:
    """The case keeps its figures and verdicts, and one judgement holds on its paths (issue 12): for
    every state (a spread of them in the larger cases) and a path to it, a safety property fails
    on the path's facts (the search's driver) exactly when it fails on some state of the path (the
    explorer's driver)."""
    result = cases.run_case(case)
    assert cases.observed(result) == case["expect"]
    for path in cases.paths_to_states(result, PATHS_PER_CASE):
        run = Run(path[-1], monitor_worlds(path))
        by_path = {p for p in STATE_PROPERTIES if PROPERTIES[p](run) is not None}
        by_states = set().union(*(judge_state(w) for w in path))
        assert by_path == by_states, (case["name"], len(path))


def test_manifest_has_safe_and_broken_cases() -> None:
    broken = [c for c in CASES if c.get("violates")]
    assert {c["condition"] for c in broken} >= {"Q1", "Q2", "Q3", "Q5"}
    for case in broken:
        assert case["expect"]["verdicts"][case["violates"]] == "violated", case["name"]
    for case in CASES:
        if not case.get("allow_unsafe"):
            assert set(case["expect"]["verdicts"].values()) == {"holds"}, case["name"]
