"""The `malformed` and `arbitrary` adversaries reach the messages the properties forbid (issue 13):
sets the endorse rule must refuse (a stale contribution, a duplicate, an outsider, another round's
slot, |S| < m), REVEALs short of T, CERTIFYs of another set, and the correct protocol refuses each
of them (or is not fooled: no property fails)."""

from __future__ import annotations

from asfl.properties.adversaries.library import ADVERSARIES, OPT_IN
from asfl.properties.search.runner import find_run, refused_rules
from asfl.properties.search.runs import SearchSetup, replay_events
from asfl.spec import Params
from asfl.spec.messages import Certify, Reveal, UnmaskReq
from asfl.spec.world import Inject

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
SETUP = SearchSetup(PARAMS, adversaries=("malformed",), swarm=False, max_chaos=250)


def _injected(ex) -> list[Inject]:
    return [e for e in ex.events if isinstance(e, Inject)]


def test_malformed_is_in_the_default_swarm():
    """Issue 13: every message the coalition can build is reachable by the default search."""
    assert "malformed" in ADVERSARIES and "malformed" not in OPT_IN
    assert "malformed" in SearchSetup(PARAMS).adversaries


def test_a_duplicate_contribution_in_a_set_is_sent_and_refused():
    def duplicate(ex) -> bool:
        return any(
            isinstance(e.msg, UnmaskReq) and len(e.msg.contribs) != len(e.msg.members) for e in _injected(ex)
        ) and "endorse" in refused_rules(ex)

    assert find_run(SETUP, duplicate, max_examples=60) is not None


def test_a_stale_contribution_and_a_short_reveal_are_sent():
    def stale(ex) -> bool:
        return any(
            isinstance(e.msg, UnmaskReq) and any(c.r != e.msg.r for c in e.msg.contribs)
            for e in _injected(ex)
        )

    def short_reveal(ex) -> bool:
        return any(isinstance(e.msg, Reveal) and len(e.msg.sigs) < PARAMS.T for e in _injected(ex)) and (
            "reveal" in refused_rules(ex)
        )

    # rare at this size: another round's contribution reaches a Byzantine coordinator late in the chaos
    assert find_run(SETUP, stale, max_examples=200) is not None
    # a REVEAL short of T goes to the endorsers of the coalition's own requests (here a coordinator's)
    leading = SearchSetup(PARAMS, adversaries=("malformed", "coordinator"), swarm=False, max_chaos=250)
    assert find_run(leading, short_reveal, max_examples=60) is not None


def test_a_certify_of_a_set_without_the_client_reaches_that_client():
    def other_set(ex) -> bool:
        return any(
            isinstance(e.msg, Certify) and e.dst.role == "c" and e.dst.index not in e.msg.members
            for e in _injected(ex)
        )

    assert find_run(SETUP, other_set, max_examples=60) is not None


# -- arbitrary: every shape of set (SET_SHAPES) ------------------------------------------------------
WITH_M2 = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4)  # m = 2, so a set of one is below m
ARBITRARY = SearchSetup(WITH_M2, adversaries=("arbitrary",), swarm=False, max_chaos=250)


def _requests(ex) -> list[UnmaskReq]:
    return [e.msg for e in _injected(ex) if isinstance(e.msg, UnmaskReq)]


def _well_formed_but(req: UnmaskReq, ctx) -> set[str]:
    """What makes `req` one the endorse rule must refuse (checks.py), by kind."""
    out = set()
    rounds = {c.r for c in req.contribs}
    if len({c.c for c in req.contribs}) < len(req.contribs):
        out.add("duplicate")
    if rounds - {req.r}:
        out.add("stale")  # a contribution of another round than the request's
    if len(req.contribs) >= 2 and len(rounds) == 1 and rounds != {req.r}:
        out.add("other_slot")  # a whole set of one round under another round's slot
    if 0 <= req.r < ctx.params.R and not req.members <= ctx.clusters(req.r)[req.i]:
        out.add("outsider")
    if len(req.members) < ctx.params.m:
        out.add("small")
    return out


def test_arbitrary_sends_every_set_the_endorse_rule_must_refuse_and_each_is_refused():
    """Duplicates, stale rounds, another round's slot (out of order across rounds), outsiders and
    sets below m: each is sent by `arbitrary` alone, each fails the spec's own endorse check, and
    the run's correct endorsers refuse it (the endorse rule fires)."""
    from asfl.spec.checks import standard_endorse_problem
    from asfl.spec.messages import aggregator

    wanted = {"duplicate", "stale", "other_slot", "outsider", "small"}
    seen: set[str] = set()

    def reaches(ex) -> bool:
        ctx = ex.run.world.ctx
        for req in _requests(ex):
            kinds = _well_formed_but(req, ctx)
            if kinds - seen and "endorse" in refused_rules(ex):
                assert standard_endorse_problem(ctx, 0, {}, aggregator(req.i), req) is not None, req
                seen.update(kinds)
        return seen >= wanted

    assert find_run(ARBITRARY, reaches, max_examples=60) is not None, wanted - seen


def test_arbitrary_is_a_function_of_the_world_and_bounded():
    """The offers are seeded by the world: the same world gives the same offers, never more than
    ARBITRARY_OFFERS, whatever else ran in between."""
    from asfl.properties.adversaries.library import ARBITRARY_OFFERS, arbitrary
    from asfl.properties.search.runs import run_with_seed

    ex = run_with_seed(ARBITRARY, 7)
    worlds = replay_events(ARBITRARY, ex.run.world.byzantine, ex.events)
    for world in worlds[:: max(1, len(worlds) // 20)]:
        first = arbitrary(world)
        assert len(first) <= ARBITRARY_OFFERS
        assert arbitrary(world) == first
