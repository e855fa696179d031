"""Q1-Q6 in z3 (properties/theory/quorum.py): the general theorems are proved, wrong thresholds refuted."""

from __future__ import annotations

import itertools

import pytest
from asfl.properties.theory.expressions import parse
from asfl.properties.theory.quorum import (
    CONDITIONS,
    Setting,
    check_all,
    check_condition,
    condition,
    sizes_consistent,
    theorem_default_threshold,
    theorem_q4_gives_q6,
    theorem_some_threshold,
)
from asfl.spec.params import quorum_conditions


def test_th1_default_threshold_iff_resilience() -> None:
    """With T = n_a - t_a, Q1-Q4 hold iff n_a >= 3 t_a + 1, for all n_a, t_a >= 0 (unbounded)."""
    verdict = theorem_default_threshold()
    assert verdict.status == "proved", verdict


def test_th2_some_threshold_iff_resilience() -> None:
    """Q1-Q3 are satisfiable by some T iff n_a >= 3 t_a + 1 (quantified over T, unbounded)."""
    assert theorem_some_threshold().status == "proved"


def test_th3_q4_gives_q6() -> None:
    assert theorem_q4_gives_q6().status == "proved"


@pytest.mark.parametrize(
    "threshold, smallest",
    [
        ("n_a - 2*t_a", {"n_a": 4, "t_a": 1}),  # Q2 fails: 2T = 4 is not > n_a + t_a = 5
        ("n_a", {"n_a": 4, "t_a": 1}),  # Q3 fails: the correct aggregators alone never reach T
        ("t_a + 1", {"n_a": 2, "t_a": 0}),  # Q2 fails with no Byzantine aggregator at all
        ("n_a - t_a - 1", {"n_a": 1, "t_a": 0}),  # Q1 fails: T = 0
    ],
)
def test_th1_refutes_wrong_thresholds(threshold: str, smallest: dict[str, int]) -> None:
    verdict = theorem_default_threshold(parse(threshold))
    assert verdict.status == "refuted"
    assert verdict.counterexample == smallest


def test_default_conditions_under_the_system_model() -> None:
    """Q1-Q6 hold for every size with n_a >= 3 t_a + 1 and the clusters' size assumption
    n_c >= n_a (t_c + 1); without that assumption Q5 fails, and the refutation is its reason."""
    verdicts = {v.name.split()[0]: v for v in check_all(Setting())}
    assert all(v.status == "proved" for v in verdicts.values())
    verdicts = {v.name.split()[0]: v for v in check_all(Setting(assume_cluster_size=False))}
    assert {name for name, v in verdicts.items() if v.status == "proved"} == {"Q1", "Q2", "Q3", "Q4", "Q6"}
    q5 = verdicts["Q5"]
    assert q5.status == "refuted"
    assert q5.counterexample == {"n_c": 2, "t_c": 1, "n_a": 2, "t_a": 0, "k": 1, "T": 2, "m": 0}


@pytest.mark.parametrize(
    "threshold, refuted, cex",
    [
        ("n_a - 2*t_a", "Q2", {"n_c": 4, "t_c": 0, "n_a": 4, "t_a": 1, "T": 2}),
        ("n_a", "Q3", {"n_c": 4, "t_c": 0, "n_a": 4, "t_a": 1, "T": 4}),
        ("t_a", "Q1", {"n_c": 1, "t_c": 0, "n_a": 1, "t_a": 0, "T": 0}),
        ("(n_a + t_a) // 2", "Q2", {"n_c": 1, "t_c": 0, "n_a": 1, "t_a": 0, "T": 0}),
    ],
)
def test_wrong_threshold_refuted_with_smallest_counterexample(
    threshold: str, refuted: str, cex: dict[str, int]
) -> None:
    verdict = check_condition(condition(refuted), Setting(threshold=parse(threshold)))
    assert verdict.status == "refuted"
    assert verdict.counterexample is not None
    assert {k: verdict.counterexample[k] for k in cex} == cex


def _brute_force_smallest(threshold: str, prefix: str) -> tuple[int, int] | None:
    """The smallest (n_a + t_a, n_c + t_c) breaking a condition, by enumeration (small sizes)."""
    expr = parse(threshold)
    best = None
    for n_a, t_a, n_c, t_c in itertools.product(range(1, 9), range(0, 3), range(1, 12), range(0, 3)):
        # the system model, with the clusters' size assumption n_c >= n_a (t_c + 1)
        if not (t_a < n_a and n_c >= n_a * (t_c + 1) and t_c < n_c and n_a >= 3 * t_a + 1):
            continue
        env = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "k": n_c // n_a}
        T, m = expr.evaluate(env), env["k"] - t_c
        names = [c.name.split()[0] for c in quorum_conditions(n_c, t_c, n_a, t_a, T, m) if not c.holds]
        if prefix in names:
            key = (n_a + t_a, n_c + t_c)
            best = key if best is None or key < best else best
    return best


@pytest.mark.parametrize("threshold", ["n_a - 2*t_a", "n_a", "2*t_a + 1", "n_a - t_a"])
def test_counterexamples_are_minimal(threshold: str) -> None:
    """z3's counterexample is the lexicographically smallest one an enumeration finds."""
    setting = Setting(threshold=parse(threshold))
    for cond in CONDITIONS:
        verdict = check_condition(cond, setting)
        expected = _brute_force_smallest(threshold, cond.name.split()[0])
        if expected is None:
            assert verdict.status == "proved", (cond.name, verdict)
            continue
        assert verdict.status == "refuted", (cond.name, verdict)
        cex = verdict.counterexample
        assert cex is not None
        assert (cex["n_a"] + cex["t_a"], cex["n_c"] + cex["t_c"]) == expected


def test_concrete_sizes_agree_with_the_spec() -> None:
    """The z3 encoding of Q1-Q6 says what `spec.params.quorum_conditions` says, size by size."""
    cases = [
        (n_c, t_c, n_a, t_a, thr)
        for n_a in (1, 2, 3, 4, 5, 7)
        for t_a in range(0, min(n_a, 3))
        for n_c in (n_a, n_a + 1, 2 * n_a + 1)
        for t_c in (0, 1, 2)
        for thr in ("n_a - t_a", "n_a - 2*t_a")
        if t_c < n_c
    ]
    assert len(cases) > 100
    for n_c, t_c, n_a, t_a, thr in cases:
        setting = Setting(threshold=parse(thr), fixed={"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a})
        k = n_c // n_a
        T = parse(thr).evaluate({"n_a": n_a, "t_a": t_a, "n_c": n_c, "t_c": t_c, "k": k})
        spec = [c.holds for c in quorum_conditions(n_c, t_c, n_a, t_a, T, k - t_c)]
        ours = [v.holds for v in check_all(setting)]
        assert ours == spec, (n_c, t_c, n_a, t_a, thr)


def test_inconsistent_sizes_are_reported() -> None:
    assert not sizes_consistent(Setting(fixed={"n_c": 2, "n_a": 4}))
    assert not sizes_consistent(Setting(fixed={"n_a": 3, "t_a": 1}))  # resilience assumed
    assert sizes_consistent(Setting(fixed={"n_a": 3, "t_a": 1}, assume_resilience=False))
    # fully concrete sizes are checked as given: Q4 fails rather than the check being vacuous
    verdicts = check_all(Setting(fixed={"n_c": 3, "t_c": 0, "n_a": 3, "t_a": 1}))
    assert {v.name.split()[0] for v in verdicts if not v.holds} == {"Q2", "Q4"}


def test_th4_the_size_assumption_is_exactly_what_q5_needs() -> None:
    from asfl.properties.theory.quorum import theorem_cluster_fill

    assert theorem_cluster_fill().status == "proved"
