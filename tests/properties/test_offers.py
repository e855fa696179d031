"""Lazy offers (issue 12): an offer's payload is built only when it is drawn or compared.

The search's draws stay those of eager offers: an offer equals the `Inject` of its built message,
and the in-flight test builds a payload only when a message of its head is on its way.
"""

from __future__ import annotations

import pytest
from asfl.properties.adversaries import library
from asfl.properties.adversaries.offers import Offer, Payload, built, coalition_in_flight, head, offers
from asfl.properties.search.runs import SearchSetup, run_with_seed
from asfl.spec import Params
from asfl.spec.aggregator import recompute_agg
from asfl.spec.messages import Certify, Cluster, Contrib, Sig, UnmaskReq, aggregator, certify_payload
from asfl.spec.world import Inject

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)


def _never_built() -> UnmaskReq:
    raise AssertionError("the payload was built")


def _world_with_a_cluster():
    """The final world of the first coordinator run whose coalition received a CLUSTER."""
    setup = SearchSetup(PARAMS, adversaries=("coordinator",), swarm=False, max_chaos=150)
    for seed in range(40):
        world = run_with_seed(setup, seed).run.world
        if any(isinstance(env.msg, Cluster) for env in world.coalition_inbox):
            return world
    pytest.fail("no coordinator run in 40 seeds let the coalition receive a CLUSTER")


def test_offers_of_unequal_heads_differ_without_a_build() -> None:
    req = UnmaskReq(0, 1, frozenset({2, 3}), ())
    lazy = Offer(0, aggregator(1), (Certify, 0, 1, frozenset({2, 3})), Payload(_never_built))
    assert lazy != Inject(0, aggregator(1), req)  # the heads differ: Certify vs UnmaskReq
    assert Inject(0, aggregator(1), req) != lazy
    assert lazy != Offer(0, aggregator(2), lazy.head, lazy.payload)  # another destination


def test_an_offer_is_the_inject_of_its_message_built_once_for_all_destinations() -> None:
    req = UnmaskReq(0, 1, frozenset({2, 3}), ())
    calls: list[int] = []

    def build() -> UnmaskReq:
        calls.append(1)
        return req

    both = offers(0, [aggregator(1), aggregator(2)], head(req), build)
    assert calls == []
    assert both[0] == Inject(0, aggregator(1), req) and both[0] != Inject(0, aggregator(2), req)
    assert type(built(both[1])) is Inject and built(both[1]) == Inject(0, aggregator(2), req)
    assert calls == [1]


def test_certify_offers_are_built_only_when_compared_and_then_match_the_protocol() -> None:
    world = _world_with_a_cluster()
    library._VIEWS.clear()  # a fresh view: none of its answers drawn yet
    sent = coalition_in_flight(world)
    # the CERTIFYs it answers CLUSTERs of correct coordinators with (those of its own clusters it
    # builds from its own CLUSTER, which it never received)
    certifies = [
        o
        for o in library.coordinator(world)
        if isinstance(o, Offer) and o.head[0] is Certify and o.head[2] not in world.byzantine
    ]
    assert certifies, "the coordinator offered no CERTIFY of the CLUSTER its coalition received"
    for o in certifies:
        assert o.payload.built == (o.head in sent.get(o.dst, {}))  # built only to compare with one in flight
    for o in certifies:
        msg = o.msg
        assert head(msg) == o.head
        cluster = next(
            env.msg
            for env in world.coalition_inbox
            if isinstance(env.msg, Cluster) and head(env.msg)[1:] == o.head[1:]
        )
        digest = world.domain.digest(recompute_agg(world.ctx, cluster))
        payload = certify_payload(cluster.r, cluster.i, cluster.members, digest)
        assert msg == Certify(cluster.r, cluster.i, cluster.members, digest, Sig(o.sender, payload))


def test_the_inbox_view_of_one_branch_is_not_taken_for_another() -> None:
    """The explorer's states branch: two states may hold the same envelopes in another order, so a
    view follows a state only if the state's inbox begins with the very inbox it read."""
    import dataclasses

    world = _world_with_a_cluster()
    contribs = [env for env in world.coalition_inbox if isinstance(env.msg, Contrib)]
    assert len(contribs) >= 4, "the coalition received fewer than 4 CONTRIBs"
    x0, x1, x2, x3 = contribs[:4]
    a = dataclasses.replace(world, coalition_inbox=(x0, x1))
    b = dataclasses.replace(world, coalition_inbox=(x2, x1, x3))  # x1 where a's last one was
    library._VIEWS.clear()
    library.inbox_view(a)
    fresh = library.InboxView(b)
    fresh.catch_up(b)
    assert library.inbox_view(b).held == fresh.held
    assert library.held_contribs(b, min(b.byzantine)) == fresh.held[min(b.byzantine)]


def test_the_fair_phase_hands_its_driver_built_injects() -> None:
    """Every driver of the fair phase (the search, the minimiser, the audit's replays) records what
    `run_fair_phase` applies: a persistent coordinator's offers reach it built."""
    from asfl.properties.domains.symbolic import SymbolicDomain
    from asfl.properties.search.runs import run_fair_phase
    from asfl.spec import initial_world
    from asfl.spec.world import step

    world = initial_world(PARAMS, SymbolicDomain(PARAMS), [2])
    applied: list = []

    def apply(event) -> None:
        nonlocal world
        applied.append(event)
        world = step(world, event)

    run_fair_phase(apply, lambda: world, 5000, "censoring")
    injected = [e for e in applied if isinstance(e, Inject)]
    assert any(isinstance(e.msg, Cluster | Certify) for e in injected), "the censor published nothing"
    assert not [e for e in injected if isinstance(e, Offer)]
