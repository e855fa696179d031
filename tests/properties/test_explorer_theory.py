"""Theory meets practice: where z3 refutes a quorum condition, a concrete trace violates the
property it guards (Q1 -> P3, Q2 -> P2, Q3 -> P5, Q5 -> P5), and the trace replays from ITF."""

from __future__ import annotations

from pathlib import Path

from asfl.properties.exhaustive.explorer import directed_run, explore
from asfl.properties.judge.suite import judge_state
from asfl.properties.theory.expressions import parse
from asfl.properties.theory.quorum import Setting, check_all
from asfl.properties.traces.itf import Trace, read_itf, replay, write_itf
from asfl.spec import Params
from asfl.spec.world import Crash, finished


def _refuted(params: Params) -> set[str]:
    """The conditions z3 refutes at these concrete sizes, threshold and set size."""
    setting = Setting(
        threshold=parse(str(params.T)),
        min_set=parse(str(params.m)),
        fixed={"n_c": params.n_c, "t_c": params.t_c, "n_a": params.n_a, "t_a": params.t_a},
    )
    return {v.name.split()[0] for v in check_all(setting) if v.status == "refuted"}


def _roundtrip(trace: Trace, tmp_path: Path) -> Trace:
    path = write_itf(tmp_path / "cex.itf.json", trace)
    back = read_itf(path)
    outcome = replay(back)
    assert outcome.first_mismatch is None and not outcome.protocol_changed
    return back


def test_safe_sizes_are_proved_and_explored_clean() -> None:
    params = Params(n_c=5, t_c=0, n_a=4, t_a=1, R=1, d=1)
    assert _refuted(params) == set()
    result = explore(params, byzantine=[3], focus=[3, 4])
    assert all(v.holds for v in result.verdicts.values())


def test_q1_broken_coalition_reconstructs_individual_pads(tmp_path: Path) -> None:
    """T = 1 <= t_a: the Byzantine coordinator alone holds T shares of each member's pad (P3)."""
    params = Params(n_c=5, t_c=0, n_a=4, t_a=1, T=1, R=1, d=1, allow_unsafe=True)
    assert "Q1" in _refuted(params)
    result = explore(params, byzantine=[3], focus=[3, 4], stop_at=["P3"])
    verdict = result.verdicts["P3"]
    assert not verdict.holds and verdict.trace is not None
    back = _roundtrip(verdict.trace, tmp_path)
    assert "P3" in judge_state(replay(back).worlds[-1], ["P3"])
    # the same schedule under T = n_a - t_a is harmless
    safe = explore(Params(n_c=5, t_c=0, n_a=4, t_a=1, R=1, d=1), byzantine=[3], focus=[3, 4])
    assert safe.verdicts["P3"].holds


def test_q2_broken_equivocating_coordinator_unmasks_two_sets(tmp_path: Path) -> None:
    """T = 2: 2T <= n_a + t_a, so two sets of one (round, cluster) each gather T endorsements and
    the coalition can reconstruct the pads of both (P3; Q2 -> P2/P3). Under endorse-then-reveal
    (finding F1) the certified-twice state of P2 lies deeper than this test's budget: P2 under a
    broken Q2 is shown by the Hypothesis exploration (test_unsafe_threshold_breaks_set_uniqueness)."""
    params = Params(n_c=5, t_c=0, n_a=4, t_a=1, T=2, R=1, d=1, allow_unsafe=True)
    assert "Q2" in _refuted(params) and "Q1" not in _refuted(params)
    result = explore(params, byzantine=[3], menu="equivocate", focus=[3, 4], stop_at=["P3"])
    verdict = result.verdicts["P3"]
    assert not verdict.holds and "two sets" in verdict.message
    back = _roundtrip(verdict.trace, tmp_path)
    assert "P3" in judge_state(replay(back).worlds[-1], ["P3"])


def test_q3_broken_no_cluster_is_ever_unmasked(tmp_path: Path) -> None:
    """T = n_a > n_a - t_a: with one silent aggregator no set gathers T share-sums (P5)."""
    params = Params(n_c=4, t_c=0, n_a=4, t_a=1, T=4, R=1, d=1, allow_unsafe=True)
    assert _refuted(params) == {"Q3"}
    world, trace = directed_run(params, byzantine=[3])
    assert trace is not None and trace.property == "P5" and not finished(world)
    back = _roundtrip(trace, tmp_path)
    assert not finished(replay(back).worlds[-1])
    # with T = n_a - t_a the same fair run finishes
    _, none = directed_run(Params(n_c=4, t_c=0, n_a=4, t_a=1, R=1, d=1), byzantine=[3])
    assert none is None


def test_q5_broken_crash_leaves_a_cluster_unfilled(tmp_path: Path) -> None:
    """m = 2 > k - t_c: a crashed client leaves its cluster short of m contributions (P5)."""
    params = Params(n_c=2, t_c=1, n_a=1, t_a=0, m=2, R=1, d=1, allow_unsafe=True)
    assert _refuted(params) == {"Q5"}
    result = explore(params)
    verdict = result.verdicts["P5"]
    assert not verdict.holds and verdict.trace is not None
    assert any(isinstance(e, Crash) for e in verdict.trace.events)
    back = _roundtrip(verdict.trace, tmp_path)
    assert not finished(replay(back).worlds[-1])
    assert explore(Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1)).verdicts["P5"].holds


def test_a_mutant_averaging_one_cluster_is_caught() -> None:
    """The checks follow PROTOCOL.md, not the rule table: a variant that averages a single cluster
    (instead of n_a - t_a) computes models that P4 flags (an aggregator's own model is judged
    too, with its proof: the first state that holds one already fails)."""
    from dataclasses import replace

    from asfl.spec import STANDARD

    mutant = replace(STANDARD, name="average-one", averaging_quorum=lambda params: 1)
    params = Params(n_c=2, t_c=0, n_a=2, t_a=0, R=1, d=1)
    result = explore(params, rules=mutant, stop_at=["P4"])
    assert not result.verdicts["P4"].holds
    assert "computed model 1 averaging clusters [0] in round 0" in result.verdicts["P4"].message
