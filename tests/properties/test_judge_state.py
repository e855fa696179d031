"""The one suite judged on one state (the explorer's driver: facts from the state alone): each
safety property fires on a state that breaks it."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from asfl.properties.exhaustive.explorer import directed_run
from asfl.properties.judge.suite import judge_state
from asfl.spec import Params
from asfl.spec.world import World


def _finished_world() -> World:
    world, trace = directed_run(Params(n_c=4, t_c=0, n_a=4, t_a=1, R=1, d=1), byzantine=[3])
    assert trace is None
    return world


def test_a_correct_run_passes_every_check() -> None:
    assert judge_state(_finished_world()) == {}


def test_p4_catches_a_forged_model() -> None:
    world = _finished_world()
    forged = replace(world.clients[0], model=world.clients[0].model + Fraction(1, 7))
    bad = replace(world, clients=(forged,) + world.clients[1:])
    assert judge_state(bad, ["P4"]).get("P4") is not None


def test_p1_and_p2_catch_a_wrong_certified_result() -> None:
    world = _finished_world()
    a = next(x for x in world.aggregators if x is not None)
    r, i, members, agg = next(iter(a.certified))
    wrong = replace(a, certified=a.certified | {(r, i, members, agg + 1)})
    bad = replace(world, aggregators=tuple(wrong if x is a else x for x in world.aggregators))
    assert judge_state(bad, ["P1"]).get("P1") is not None
    # a second certifier makes the wrong result certified: two results, one set is still fine for
    # P2, but a second *set* is not
    other = replace(a, certified=a.certified | {(r, i, frozenset(), 0)})
    bad2 = replace(world, aggregators=tuple(other if x is a else x for x in world.aggregators))
    assert judge_state(bad2, ["P2"]).get("P2") is not None


def test_p6_catches_a_count_over_quota() -> None:
    world = _finished_world()
    over = replace(world.clients[1], released=world.params.Q + 1)
    bad = replace(world, clients=world.clients[:1] + (over,) + world.clients[2:])
    assert judge_state(bad, ["P6"]).get("P6") is not None


def test_p6_catches_an_unmaskable_release_the_count_misses() -> None:
    """A client whose data is in an unmaskable set, with a count of 0, breaks P6."""
    world = _finished_world()
    member = next(c for c in world.clients if c.released == 1)
    lowered = replace(member, released=0)
    bad = replace(world, clients=tuple(lowered if c is member else c for c in world.clients))
    problem = judge_state(bad, ["P6"]).get("P6")
    assert problem is not None and "can unmask" in problem.reason
