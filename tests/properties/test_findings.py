"""Findings (docs/findings.md): each pinned counterexample replays to its violation under the
protocol as first written, and the fixed protocol stops the same attack."""

from __future__ import annotations

from pathlib import Path

from asfl.properties import traces, variants  # noqa: F401  (registers the variants' rule tables)
from asfl.properties.checks import p3_confidentiality
from asfl.properties.explore import Setup
from asfl.properties.runner import find_run, judge_trace, refused_rules
from asfl.spec import Params

PINNED = Path(__file__).parent / "traces"


def test_f1_equivocation_leak_replays() -> None:
    """F1: share-sums released at once let an equivocating coordinator learn x_1 + k*x_7 (P3)."""
    trace = traces.read_itf(PINNED / "F1-share-sum-at-once.itf.json")
    assert trace.rules == "share-sum-at-once" and trace.property == "P3"
    assert len(trace.events) <= 13
    rep = traces.replay(trace)
    assert rep.first_mismatch is None
    violation = judge_trace(trace, rep.worlds)
    assert violation is not None and violation.prop == "P3"


def test_f1_fix_refuses_the_reveal_of_another_set() -> None:
    """With endorse-then-reveal, the same attack is reached and refused by the reveal rule, and the
    adversary learns nothing outside one allowed set."""
    setup = Setup(
        Params(n_c=8, t_c=1, n_a=4, t_a=1, R=1), adversaries=("equivocating",), swarm=False, max_chaos=150
    )
    ex = find_run(
        setup, lambda ex: "Q2 write-once" in refused_rules(ex) and "reveal" in refused_rules(ex), 80
    )
    assert ex is not None
    assert p3_confidentiality(ex.run) is None
