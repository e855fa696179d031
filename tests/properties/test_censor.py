"""The persistent censor (properties/adversaries/persistent.py): a Byzantine coordinator that keeps
censoring one client through the fair phase. The inclusion mechanism absorbs it: the censored release is taken
back (I2), carried over (I3) and, with clusters reshuffled, lands with another coordinator, so
P5 and P6 hold; with the round-0 clusters kept, the target is never certified, though its count
balances (the mutant is equivalent under P1-P9, finding F5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asfl.properties.adversaries.persistent import targets
from asfl.properties.audit.variant_file import load
from asfl.properties.judge.suite import censor_exempt, certified_results, p5_liveness, p6_budget
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


def test_without_reshuffle_the_censors_target_is_never_certified_yet_its_count_balances():
    """What the reshuffle buys is participation (mutants/equivalent/no_reshuffle.py, finding F5):
    with it, the target lands with a correct coordinator and is in a certified set for some
    Byzantine aggregators; without it, never. Its count reaches Q either way (I2 counts an
    unresolved contribution), so P6 holds on both and no property tells them apart."""
    no_reshuffle = load(MUTANTS / "equivalent" / "no_reshuffle.py").rules

    def certified_target(rules, b: int) -> tuple[bool, int, bool]:
        run = fair_run(rules, b)
        (target,) = targets(run.world)
        included = any(target in members for (_r, _i, members, _agg) in certified_results(run))
        return included, run.world.clients[target].released, p6_budget(run) is None

    shuffled = [certified_target(STANDARD, b) for b in range(PARAMS.n_a)]
    kept = [certified_target(no_reshuffle, b) for b in range(PARAMS.n_a)]
    assert any(included for included, _, _ in shuffled)
    assert not any(included for included, _, _ in kept)
    assert all(count == PARAMS.Q and held for _, count, held in shuffled + kept)


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


def test_a_target_the_shuffle_gives_enough_correct_rounds_is_judged_for_balance():
    """A censor's target is exempt from P6's balance only when the protocol's public shuffle gives it
    fewer than Q + 2 rounds with a correct coordinator (H1's slack), or the correct coordinators'
    slots do not cover every client's quota (finding F7). n_c=12, R=6, Q=2, m=2 (slots cover, 24 <=
    (6-2)*3*2): aggregator 1's target, client 0, has enough correct rounds, so P6 asks Q of it (and
    it has Q); aggregator 0's target, client 9, has fewer and stays exempt."""
    from dataclasses import replace

    from asfl.properties.judge.suite import correct_slots_cover

    params = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=6)
    assert params.Q == 2 and correct_slots_cover(params)
    judged = fair_run(STANDARD, 1, params=params)
    assert judged.censored == {0} and censor_exempt(judged) == frozenset()
    assert judged.world.clients[0].released == params.Q and p6_budget(judged) is None
    exempt = fair_run(STANDARD, 0, params=params)
    assert exempt.censored == {9} == censor_exempt(exempt)
    # the judged target one release short is a violation; the exempt one is not
    for run, target, verdict in ((judged, 0, "violated"), (exempt, 9, "held")):
        clients = list(run.world.clients)
        clients[target] = replace(clients[target], released=params.Q - 1)
        short = replace(run, world=replace(run.world, clients=tuple(clients)))
        assert ("held" if p6_budget(short) is None else "violated") == verdict


def test_where_the_correct_slots_do_not_cover_every_quota_every_victim_is_exempt():
    """n_c=8, R=6, Q=2, m=1: the three correct coordinators offer (6-2)*3*1 = 12 release slots
    before the slack rounds for 8*2 = 16 releases, so a client the Byzantine coordinator left out
    may find them all taken (finding F7): its target is exempt although it has four correct
    rounds; a client it did not touch is still judged."""
    from dataclasses import replace

    from asfl.properties.judge.suite import correct_slots_cover

    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=6)
    assert params.Q == 2 and not correct_slots_cover(params)
    run = fair_run(STANDARD, 3, params=params)
    assert run.censored == {1} == censor_exempt(run)
    for target, verdict in ((1, "held"), (2, "violated")):
        clients = list(run.world.clients)
        clients[target] = replace(clients[target], released=params.Q - 1)
        short = replace(run, world=replace(run.world, clients=tuple(clients)))
        assert ("held" if p6_budget(short) is None else "violated") == verdict


def test_the_equivocating_coordinators_victims_are_the_members_it_left_out_of_a_certified_set():
    """A coordinator kept equivocating (`split_equivocation`, persistent) gets sets of its clusters
    certified without some members it holds: those members are its victims (`left_out`), judged
    for P6's balance as the censor's targets are (finding F7). n_c=12, R=4: aggregator 2 leaves
    out clients 5 and 8; client 8 has Q + 2 correct rounds and slots cover, so it is still judged,
    client 5 is exempt."""
    from asfl.properties.adversaries.library import held_contribs
    from asfl.properties.adversaries.persistent import left_out

    params = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4)
    plan = Plan((2,), ("split_equivocation",), False, 0, (), "split_equivocation")
    run = execute(SearchSetup(params, STANDARD), plan, lambda world, kinds: None).run
    assert left_out(run.world) == run.censored == {5, 8} and censor_exempt(run) == {5}
    for c in run.censored:  # held by the coordinator, and certified out of that (round, cluster)
        assert any(
            c in held and any((kr, i) == (r, 2) and c not in s for kr, i, s, _ in certified_results(run))
            for r, held in held_contribs(run.world, 2).items()
        )
    assert p6_budget(run) is None
