"""No property is vacuous: each deliberately broken rule table is caught by the property it breaks,
with a short shrunk trace that replays (from its ITF file) to the same violation."""

from __future__ import annotations

import pytest
from asfl.properties.audit.broken_variants import VARIANTS
from asfl.properties.judge.agreement import path_verdicts, state_verdicts
from asfl.properties.search.runner import check_property, judge_trace
from asfl.properties.search.runs import SearchSetup
from asfl.properties.traces import itf as traces
from asfl.spec import Params

ONE_ROUND = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=1)
THREE_ROUNDS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)

# variant -> (params, chaos steps, examples, longest accepted trace)
PLAN = {
    "mask-degree-T": (ONE_ROUND, 60, 30, 40),
    "no-write-once": (ONE_ROUND, 200, 60, 40),
    "constant-sharing": (ONE_ROUND, 60, 30, 20),
    "share-sum-at-once": (ONE_ROUND, 150, 60, 40),  # finding F1
    "accept-any-model": (ONE_ROUND, 60, 30, 30),
    "wait-all-members": (ONE_ROUND, 60, 30, 150),
    "no-quota": (THREE_ROUNDS, 60, 30, 400),
    "noise-for-cluster-size": (ONE_ROUND, 60, 30, 20),
    "small-averaging-quorum": (ONE_ROUND, 200, 60, 40),
    "wait-all-sums": (ONE_ROUND, 60, 30, 80),
}


# a finding: pinned as a trace and searched for in tests/properties/test_findings.py
PINNED = {"no-cluster-relay", "paced-one-slack"}


def test_every_property_has_a_broken_variant() -> None:
    assert {v.breaks for v in VARIANTS.values()} == {f"P{k}" for k in range(1, 10)}
    assert set(PLAN) == set(VARIANTS) - PINNED


@pytest.mark.parametrize("name", sorted(PLAN))
def test_variant_is_caught_and_replays(name: str, tmp_path) -> None:
    variant = VARIANTS[name]
    params, chaos, examples, longest = PLAN[name]
    setup = SearchSetup(params, variant.rules, adversaries=variant.adversaries, max_chaos=chaos, swarm=False)
    outcome = check_property(variant.breaks, setup, max_examples=examples)
    assert not outcome.held, f"{name} was not caught by {variant.breaks}"
    trace = outcome.trace
    assert trace is not None and trace.rules == name and trace.property == variant.breaks
    assert len(trace.events) <= longest, f"trace of {len(trace.events)} steps"
    if variant.breaks in ("P5", "P9"):
        assert trace.extra["chaos_steps"] <= 3  # the fault, then fair delivery gets stuck
        assert trace.loop == len(trace.events)  # a lasso: the last state stays forever
    path = traces.write_itf(tmp_path / f"{name}.itf.json", trace)
    again = traces.read_itf(path)
    rep = traces.replay(again)
    assert not rep.protocol_changed and rep.first_mismatch is None
    violation = judge_trace(again, rep.worlds)
    assert violation is not None and str(violation) == trace.description
    # one judgement (issue 12): the explorer's driver, judging each state of the trace on what it
    # holds, sees the same safety violations at the same steps as the search's, judging the path
    assert path_verdicts(rep.worlds) == state_verdicts(rep.worlds)


def test_unsafe_threshold_breaks_set_uniqueness() -> None:
    """Q2 broken (T = t_a + 1 = 2 with n_a = 4): an equivocating coordinator gets two sets of one
    (round, cluster) revealed and certified, on the standard rules (P2)."""
    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=1, T=2, allow_unsafe=True)
    setup = SearchSetup(params, adversaries=("equivocating",), max_chaos=200, swarm=False)
    outcome = check_property("P2", setup, max_examples=60)
    assert not outcome.held and outcome.trace is not None
    assert len(outcome.trace.events) <= 40
    assert judge_trace(outcome.trace) is not None
