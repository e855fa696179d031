"""Issue 13, the whole mutation pool's gaps (2026-12-07): the coalition's messages signed over other
content or with one part twice (`signed_otherwise`), its refused UNMASK_REQs kept going in the fair
phase (`malformed_requests`), and P4's clause that a client's model of round r has a proof of r
rounds. Each offer is built as its docstring says and a correct party refuses it with the rule
named; the mutants each one kills are listed in docs/audit.md ("The whole pool")."""

from __future__ import annotations

from dataclasses import replace

from asfl.properties.adversaries.library import (
    _well_formed,
    inbox_view,
    malformed_requests,
    signed_otherwise,
)
from asfl.properties.judge.suite import Run, p4_integrity
from asfl.properties.search.runner import find_run
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params
from asfl.spec.aggregator import on_certify, on_cluster, on_endorsement, on_share_sum
from asfl.spec.checks import standard_endorse_problem, standard_share_sum_verifies
from asfl.spec.errors import ProtocolError
from asfl.spec.messages import (
    Certify,
    Cluster,
    Endorsement,
    ShareSum,
    Sig,
    UnmaskReq,
    aggregator,
    certify_payload,
    endorsement_payload,
)

PARAMS = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=3)
SETUP = SearchSetup(PARAMS, adversaries=("malformed", "coordinator"), swarm=False, max_chaos=300)


def _refusal(fn, *args) -> str:
    try:
        fn(*args)
    except ProtocolError as e:
        return str(e)
    raise AssertionError(f"{fn.__name__} accepted {args[-1]!r}")


def test_signed_otherwise_offers_what_a_correct_aggregator_refuses():
    """Once the coalition holds a correct coordinator's UNMASK_REQ and a CLUSTER: an ENDORSE signed
    over the share-sum's payload, a share-sum off by the coalition's own value and signed over the
    intent, CERTIFYs of the CLUSTER's result signed over a payload above and one below the right
    one, the CLUSTER with a share-sum twice and under clusters n_a and n_a + 1. Every one is
    refused by the rule its docstring names."""

    def both(ex) -> bool:
        view = inbox_view(ex.run.world)
        return bool(view.requests) and any(_well_formed(m) for m in view.clusters)

    found = find_run(SETUP, both, max_examples=20)
    assert found is not None
    world = found.run.world
    b = min(world.byzantine)
    offers = signed_otherwise(world)
    assert offers and {o.sender for o in offers} == {b}
    kinds = {type(o.msg) for o in offers}
    assert kinds == {Endorsement, ShareSum, Certify, Cluster}
    for o in offers:
        target = world.aggregators[o.dst.index]
        assert target is not None and o.dst.index not in world.byzantine
        msg = o.msg
        if isinstance(msg, Endorsement):
            assert msg.sig == Sig(b, endorsement_payload(msg.r, msg.i, msg.members))
            why = _refusal(on_endorsement, world.ctx, target, aggregator(b), msg)
            assert why.startswith("signatures"), why
        elif isinstance(msg, ShareSum):
            # A1 itself refuses it (on_share_sum may refuse earlier: its CLUSTER already sent)
            contribs = next(m.contribs for m in inbox_view(world).requests if (m.r, m.i) == (msg.r, msg.i))
            assert not standard_share_sum_verifies(world.ctx, contribs, msg)
            _refusal(on_share_sum, world.ctx, target, aggregator(b), msg)
        elif isinstance(msg, Certify):
            assert msg.sig.payload != certify_payload(msg.r, msg.i, msg.members, msg.agg_digest)
            why = _refusal(on_certify, world.ctx, target, aggregator(b), msg)
            assert why.startswith("signatures"), why
        else:
            why = _refusal(on_cluster, world.ctx, target, aggregator(b), msg)
            if msg.i >= PARAMS.n_a:
                assert why == f"certify: cluster {msg.i} does not exist", why
            else:
                assert len(msg.sums) == PARAMS.T + 1 and not _well_formed(msg)
                assert why == f"certify: needs T={PARAMS.T} share-sums from distinct aggregators", why
    payloads = {o.msg.sig.payload[0] for o in offers if isinstance(o.msg, Certify)}
    assert payloads == {"endorse", "certify"}  # one above "certify" in tuple order, one below
    assert {o.msg.i for o in offers if isinstance(o.msg, Cluster)} >= {PARAMS.n_a, PARAMS.n_a + 1}


def test_malformed_requests_give_sets_whose_contributions_fall_below_and_above_s():
    """The refused UNMASK_REQs of the coalition's own cluster: with as many contributions as
    members, one member's twice and another's left out, the sorted client ids fall below S's (the
    first twice, the second left out) and above them (the last twice, the first left out); the
    endorse rule refuses both, and the request with one contribution more than members."""

    def three(ex) -> bool:
        world = ex.run.world
        return any(
            isinstance(o.msg, UnmaskReq) and len(o.msg.members) >= 3 for o in malformed_requests(world)
        )

    found = find_run(SETUP, three, max_examples=30)
    assert found is not None
    world = found.run.world
    b = min(world.byzantine)
    requests = [o.msg for o in malformed_requests(world) if isinstance(o.msg, UnmaskReq)]
    orders = set()
    for req in requests:
        ids, members = sorted(c.c for c in req.contribs), sorted(req.members)
        if ids != members:
            orders.add("below" if ids < members else "above")
            assert standard_endorse_problem(world.ctx, 0, {}, aggregator(b), req) == (
                "contributions do not match S one to one"
            )
    assert orders == {"below", "above"}


def test_p4_judges_a_client_model_whose_proof_is_not_of_its_round():
    """P4: the model of round r averages rounds 0..r-1, so a client that accepted a MODEL of round r
    with a proof of another length holds another round's model. A run with one such acceptance
    violates P4; the same run as it was holds it."""

    def accepted(ex) -> bool:
        return any(a.party == "client" and a.proof for a in ex.run.facts.accepted)

    found = find_run(SETUP, accepted, max_examples=20)
    assert found is not None
    run = found.run
    assert p4_integrity(run) is None
    facts = run.facts
    first = next(a for a in facts.accepted if a.party == "client" and a.proof)
    for r in (first.r + 1, first.r - 1):
        moved = replace(first, r=r)
        bad = Run(run.world, run.monitor, run.fair_from)
        bad._facts = replace(facts, accepted=[moved if a is first else a for a in facts.accepted])
        v = p4_integrity(bad)
        assert (
            v is not None and v.prop == "P4" and f"with a proof of {len(first.proof)} rounds" in v.reason
        ), v
