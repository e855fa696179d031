"""The persistent censor (properties/adversaries/persistent.py): a Byzantine coordinator that keeps
censoring one client through the fair phase. The inclusion mechanism absorbs it: the censored release is taken
back (I2), carried over (I3) and, with clusters reshuffled, lands with another coordinator, so
P5 and P6 hold; with the round-0 clusters kept, the same clusters race in the same order every
round and a client ends short of Q (aggregator 1 censoring: client 4's cluster is always served by
client 5 before the round closes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asfl.properties.adversaries.persistent import targets
from asfl.properties.audit.variant_file import load
from asfl.properties.judge.suite import certified_results, p5_liveness, p6_budget
from asfl.properties.search.runs import Plan, SearchSetup, execute
from asfl.spec import PACED, STANDARD, Params

MUTANTS = Path(__file__).parents[2] / "properties" / "audit" / "mutants"
PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)


def fair_run(rules, byzantine: int, censor: bool = True, params: Params = PARAMS):
    plan = Plan((byzantine,), (), False, 0, (), censor)
    return execute(SearchSetup(params, rules), plan, lambda world, kinds: None).run


@pytest.mark.parametrize("byzantine", range(PARAMS.n_a))
def test_the_protocol_absorbs_a_persistent_censor(byzantine):
    run = fair_run(STANDARD, byzantine)
    (target,) = targets(run.world)
    # the censor did censor: some certified set of its own cluster left the target out
    own = [members for (_r, i, members, _agg) in certified_results(run) if i == byzantine]
    assert own and all(target not in members for members in own)
    assert target in run.world.ctx.clusters(0)[byzantine]
    assert p5_liveness(run) is None
    assert p6_budget(run) is None
    assert run.world.clients[target].released == PARAMS.Q


@pytest.mark.parametrize("byzantine", range(PARAMS.n_a))
def test_a_paced_quota_absorbs_the_persistent_censor_too(byzantine):
    """PACED (docs/protocol.md, deviation 12) delays releases to the pace: a client whose round-r
    slot is censored is then behind it and releases at its next contribution, so every client but
    the target still reaches Q and no round is left unfinished. R=6 (Q=2, three paced rounds): at
    R <= 4 PACED is the standard rule, which the test above covers."""
    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=6)
    run = fair_run(PACED, byzantine, params=params)
    assert p5_liveness(run) is None and p6_budget(run) is None
    (target,) = targets(run.world)
    assert all(st.released == params.Q for st in run.world.clients if st.c != target)


def test_without_reshuffle_a_client_ends_short_under_the_censor():
    no_reshuffle = load(MUTANTS / "no_reshuffle.py").rules
    verdicts = {b: p6_budget(fair_run(no_reshuffle, b)) for b in range(PARAMS.n_a)}
    broken = {b: v for b, v in verdicts.items() if v is not None}
    assert broken, verdicts
    for violation in broken.values():
        assert "not Q=1" in violation.reason
    # and the same runs without the censor balance: the censor, not the mutant alone, starves it
    assert all(p6_budget(fair_run(no_reshuffle, b, censor=False)) is None for b in broken)


def test_the_persistent_strategy_is_named_by_the_plan_and_old_traces_mean_censoring():
    """A plan (and a trace's extra["persistent_censor"]) names the strategy kept in the fair phase:
    True, as traces recorded before the late censor say, is the persistent censor; the late censor
    is named; only a setup that names late_censor draws it (the default swarm leaves it out)."""
    from asfl.properties.adversaries.library import OPT_IN
    from asfl.properties.adversaries.persistent import persistent_name

    assert persistent_name(True) == "censoring" and persistent_name(False) is None
    assert persistent_name("late_censor") == "late_censor"
    with pytest.raises(ValueError):
        persistent_name("nobody")
    assert "late_censor" in OPT_IN and "late_censor" not in SearchSetup(PARAMS).adversaries
    assert targets(fair_run(STANDARD, 0, censor=False).world, False) == frozenset()
    assert targets(fair_run(STANDARD, 0, censor=True).world, True) == {4}


def test_the_late_censors_victims_are_exempt_from_balance():
    """Aggregator 2 is late censor; clients 0 and 6 of its round-0 cluster end training first.
    It certifies {6} once client 0's round-1 CONTRIB is held: client 0 is its victim (exempt from
    P6's balance, like the persistent censor's target), and P5 and P6 hold."""
    from asfl.spec.world import TrainDone

    prefix = iter([TrainDone(0), TrainDone(6)])
    plan = Plan((2,), ("late_censor",), False, 2, (), "late_censor")
    run = execute(SearchSetup(PARAMS, STANDARD), plan, lambda world, kinds: next(prefix)).run
    assert targets(run.world, "late_censor") == {0} == run.censored
    assert p5_liveness(run) is None and p6_budget(run) is None
