"""Issue 13, the mutation score's gaps of 2026-12-02: the coalition's own honest messages relabelled,
a CLUSTER short of T, MODELs whose proof is real but whose model is not its average or whose
signatures are of other content (and, 2026-12-07, an honest MODEL a round older than the newest,
with P4's clause that a client never goes back to one), a correct aggregator on a slow link (a
round behind), and P6's clause that a client resolves a contribution whose certificate reached
it. Each offer is built as its docstring says and the correct protocol refuses it; the pinned
kill matrix (`kill_matrix.json`, test_spec_audit.py, test_audit.py) shows the catalogue mistake
each one kills."""

from __future__ import annotations

from dataclasses import replace

from asfl.properties.adversaries.library import (
    _average,
    _known_results,
    _proof_of_other_content,
    _short_cluster,
    certified_proof,
    held_contribs,
    inbox,
    malformed_models,
    own_share_sum,
    relabelled,
    signed_elsewhere,
)
from asfl.properties.domains.symbolic import Form
from asfl.properties.judge.suite import Run, p3_confidentiality, p4_integrity, p5_liveness, p6_budget
from asfl.properties.search.runner import find_run
from asfl.properties.search.runs import Plan, SearchSetup, execute, fifo_choice, random_chooser, replay_events
from asfl.spec import Params
from asfl.spec.aggregator import on_cluster, on_endorsement, on_share_sum, on_unmask_req
from asfl.spec.certificates import result_problem, standard_model_problem
from asfl.spec.checks import standard_endorse_problem, standard_share_sum_verifies
from asfl.spec.client import on_model
from asfl.spec.errors import ProtocolError
from asfl.spec.messages import Certify, Cluster, Endorsement, ModelMsg, ShareSum, UnmaskReq, aggregator
from asfl.spec.world import Inject, _evolve

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
SETUP = SearchSetup(PARAMS, adversaries=("malformed", "coordinator"), swarm=False, max_chaos=250)


def _worlds(ex):
    return replay_events(SETUP, ex.plan.byzantine, ex.events)


def _refusal(fn, *args) -> str:
    try:
        fn(*args)
    except ProtocolError as e:
        return e.rule
    raise AssertionError(f"{fn.__name__} accepted {args[-1]!r}")


def _relabellable(msg, byzantine) -> bool:
    """A correct coordinator's UNMASK_REQ of a set of two members or more."""
    return isinstance(msg, UnmaskReq) and msg.i not in byzantine and len(msg.members) > 1


def test_relabelled_share_sums_and_endorsements_verify_and_the_coordinator_refuses_each():
    """Each relabelled message differs from the coalition's honest one in one field, verifies on
    its own (A1 over the contributions of its set, the sender's signature of its own label), and
    the coordinator that fixed S refuses it by its own check ("coordinator"), not by A1."""
    at_m2 = SearchSetup(Params(n_c=12, t_c=1, n_a=4, t_a=1, R=3), adversaries=SETUP.adversaries, swarm=False)
    found = find_run(
        at_m2,
        lambda ex: any(_relabellable(m, ex.plan.byzantine) for m in inbox(ex.run.world)),
        max_examples=20,
    )
    assert found is not None
    world = found.run.world
    b = min(world.byzantine)
    req = next(m for m in inbox(world) if _relabellable(m, world.byzantine))
    honest = own_share_sum(world, b, req.r, req.i, req.contribs)
    coordinator = next(a for a in world.aggregators if a is not None and a.j == req.i)
    assert coordinator.fixed.get(req.r) == req.members
    msgs = relabelled(world, b, req)
    sums = [m for m in msgs if isinstance(m, ShareSum)]
    ends = [m for m in msgs if isinstance(m, Endorsement)]
    assert len(sums) == len(ends) >= 2
    for s in sums:
        changed = {f for f in ("r", "i", "members") if getattr(s, f) != getattr(honest, f)}
        assert len(changed) == 1 and s.sender == b
        contribs = tuple(c for c in req.contribs if c.c in s.members)
        assert standard_share_sum_verifies(world.ctx, contribs, s)
        assert _refusal(on_share_sum, world.ctx, coordinator, aggregator(b), s) == "coordinator"
    assert {s.i for s in sums} == {(req.i + 1) % 4, (req.i - 1) % 4, req.i}
    for e in ends:
        assert e.sig.signer == b and e.sig.payload == ("endorse-intent", e.r, e.i, e.members)
        assert _refusal(on_endorsement, world.ctx, coordinator, aggregator(b), e) == "coordinator"


def test_a_cluster_short_of_T_has_share_sums_that_verify_and_is_refused():
    def short(ex) -> bool:
        world = ex.run.world
        return any(
            _short_cluster(world, b, r, held) is not None
            for b in world.byzantine
            for r, held in held_contribs(world, b).items()
        )

    found = find_run(SETUP, short, max_examples=20)
    assert found is not None
    world = found.run.world
    b = min(world.byzantine)
    r, held = next((r, h) for r, h in held_contribs(world, b).items() if _short_cluster(world, b, r, h))
    cluster = _short_cluster(world, b, r, held)
    assert isinstance(cluster, Cluster) and 1 <= len(cluster.sums) < PARAMS.T
    assert all(standard_share_sum_verifies(world.ctx, cluster.contribs, s) for s in cluster.sums)
    correct = next(a for a in world.aggregators if a is not None)
    assert _refusal(on_cluster, world.ctx, correct, aggregator(b), cluster) == "certify"


def test_the_forged_models_are_real_proofs_with_another_model_and_signatures_of_other_content():
    """`malformed_models`: once results are certified, the newest proof of them verifies result by
    result while the model is not its average (standard_model_problem refuses only at the last
    comparison); the proof of the coalition's own results carries t_a + 1 distinct signers, of
    which only the coalition's signed the result's content."""

    def both(ex) -> bool:
        world = ex.run.world
        return bool(certified_proof(world, _known_results(world))) and bool(
            signed_elsewhere(world, list(inbox(world)))
        )

    found = find_run(SETUP, both, max_examples=20)
    assert found is not None
    world = found.run.world
    proof = certified_proof(world, _known_results(world))
    altered = ModelMsg(len(proof), _average(world, proof, Form.symbol(("adv", -1 - len(proof)))), proof)
    other = _proof_of_other_content(world, signed_elsewhere(world, list(inbox(world))))
    older = ModelMsg(len(proof) - 1, _average(world, proof[:-1]), proof[:-1])
    scaled = ModelMsg(len(proof), _average(world, proof, extra=1), proof)
    honest_w = _average(world, proof)
    ahead = ModelMsg(len(proof) + 1, honest_w, proof) if len(proof) < PARAMS.R else None
    behind = ModelMsg(len(proof) - 1, honest_w, proof) if len(proof) > 1 else None
    few = proof[0][: PARAMS.n_a - PARAMS.t_a - 1]
    short = ModelMsg(1, _average(world, (few,)), (few,))
    # the honest model and proof under another round, and a round of fewer than n_a - t_a results:
    # each result verifies, and step 1 refuses the MODEL on the proof's length or its round's size
    for msg in (ahead, behind):
        if msg is not None:
            assert all(
                result_problem(world.ctx, r, res) is None for r, rs in enumerate(msg.proof) for res in rs
            )
            assert standard_model_problem(world.ctx, msg).startswith("proof covers")
    assert all(result_problem(world.ctx, 0, res) is None for res in few)
    assert standard_model_problem(world.ctx, short) == f"round 0 averages {len(few)} clusters, needs 3"
    # what is offered (to every client not crashed) is these seven, less those already in flight
    forged = {altered, other, older, scaled, ahead, behind, short} - {None}
    assert {o.msg for o in malformed_models(world)} <= forged
    assert {o.msg for o in malformed_models(world)} | {
        e.msg for e in world.in_flight if e.src.role == "a" and e.src.index in world.byzantine
    } >= forged
    # the altered and the scaled model lie on either side of the average, whatever the order
    honest = world.domain.model_digest(_average(world, proof))
    digest = world.domain.model_digest
    assert digest(altered.w) < honest < digest(scaled.w) or digest(scaled.w) < honest < digest(altered.w)
    assert standard_model_problem(world.ctx, scaled) == "the model is not the average its proof certifies"
    for r, results in enumerate(altered.proof):
        assert all(result_problem(world.ctx, r, res) is None for res in results)
    assert standard_model_problem(world.ctx, altered) == "the model is not the average its proof certifies"
    need = PARAMS.certificate_size
    for r, results in enumerate(other.proof):
        for res in results:
            assert len({s.signer for s in res.sigs}) >= need
            own = {s.signer for s in res.sigs if s.payload == ("certify", r, res.i, res.members, res.agg)}
            assert own == set(world.byzantine)
    assert "valid CERTIFY signatures" in standard_model_problem(world.ctx, other)


def test_an_older_honest_model_verifies_and_a_client_that_holds_its_round_refuses_it():
    """`malformed_models`' third MODEL: the newest proof less its last round, with its honest
    average. Its proof verifies (nothing forged), so only step 1's "newer" refuses it, at a client
    that already holds its round or a later one."""

    def newer_held(ex) -> bool:
        world = ex.run.world
        proof = certified_proof(world, _known_results(world))
        return len(proof) >= 2 and any(st.model_round >= len(proof) - 1 for st in world.clients)

    found = find_run(SETUP, newer_held, max_examples=20)
    assert found is not None
    world = found.run.world
    proof = certified_proof(world, _known_results(world))
    older = ModelMsg(len(proof) - 1, _average(world, proof[:-1]), proof[:-1])
    assert older.r >= 1 and standard_model_problem(world.ctx, older) is None
    offered = {o.msg for o in malformed_models(world)} | {
        e.msg for e in world.in_flight if e.src.role == "a" and e.src.index in world.byzantine
    }
    assert older in offered
    b = min(world.byzantine)
    holder = next(st for st in world.clients if st.model_round >= older.r)
    assert _refusal(on_model, world.ctx, holder, aggregator(b), older) == "step 1"


def test_p4_judges_a_client_that_goes_back_to_an_older_model():
    """P4's rollback clause: a correct client whose accepted rounds do not rise strictly (a MODEL of
    its own round or older accepted after a newer one) violates P4, although every model it
    accepted is an honest average; the same run without that acceptance holds P4."""

    def accepted_twice(ex) -> bool:
        return sum(1 for a in ex.run.facts.accepted if a.party == "client" and a.index == 0) >= 2

    found = find_run(SETUP, accepted_twice, max_examples=20)
    assert found is not None
    run = found.run
    assert p4_integrity(run) is None
    facts = run.facts
    first, second = [a for a in facts.accepted if a.party == "client" and a.index == 0][:2]
    assert first.r < second.r
    for replayed in (first, second):  # an older model, then a second model of the same round
        back = replace(replayed, step=facts.accepted[-1].step + 1)
        rolled = Run(run.world, run.monitor, run.fair_from)
        rolled._facts = replace(facts, accepted=[*facts.accepted, back])
        v = p4_integrity(rolled)
        assert v is not None and v.prop == "P4" and "not newer" in v.reason, v
        assert f"round {replayed.r}" in v.reason


def test_the_plan_keeps_the_forged_models_going_in_the_fair_phase():
    """A plan keeps its coordinator strategy through the fair phase when it persists (the serial
    equivocator and `outside_set` too, since 2026-12-07), else `malformed`, whose fair phase sends
    its messages signed over other content, its refused UNMASK_REQs and its forged MODELs."""
    from asfl.properties.adversaries.library import malformed_requests, signed_otherwise
    from asfl.properties.adversaries.persistent import PERSISTENT, persistent_malformed
    from asfl.properties.search.runs import PERSISTENT_ORDER, draw_plan

    assert PERSISTENT["malformed"] is persistent_malformed
    import random

    swarm = SearchSetup(PARAMS)
    plans = [draw_plan(random.Random(seed), swarm) for seed in range(200)]
    kept = [p for p in plans if p.censor == "malformed"]
    assert kept and all("malformed" in p.adversaries for p in kept)
    assert not [p for p in plans if "censoring" in p.adversaries and p.censor == "malformed"]
    for plan in plans:
        if "censoring" not in plan.adversaries:
            drawn = [n for n in PERSISTENT_ORDER if n in plan.adversaries]
            assert plan.censor == drawn[0] if drawn else not plan.censor
    assert {p.censor for p in plans} >= {"serial_equivocation", "outside_set", "malformed"}
    found = find_run(SETUP, lambda ex: bool(malformed_models(ex.run.world)), max_examples=20)
    assert found is not None
    world = found.run.world
    offers = persistent_malformed(world)
    assert offers == signed_otherwise(world) + malformed_requests(world) + malformed_models(world)
    assert {o.msg for o in malformed_models(world)} <= {o.msg for o in offers}


# -- a correct aggregator on a slow link --------------------------------------------------------------
def test_the_fair_phase_defers_certificates_to_the_lagging_aggregator_and_it_catches_up():
    """A plan's lagging aggregator gets its CERTIFYs and CLUSTERs only when nothing else can happen,
    newest first: the others complete every round first, it is rounds behind, and the protocol
    still brings it to R (P5 holds)."""
    setup = SearchSetup(PARAMS, adversaries=(), swarm=False)
    plan = Plan((3,), (), False, 0, lagging=1)
    ex = execute(setup, plan, random_chooser(__import__("random").Random(0)))
    worlds = replay_events(setup, (3,), ex.events)
    gap = max(max(a.model_round for a in w.aggregators if a) - w.aggregators[1].model_round for w in worlds)
    assert gap == PARAMS.R
    assert [a.model_round for a in ex.run.world.aggregators if a] == [PARAMS.R] * 3
    assert p5_liveness(ex.run) is None
    # while anything else is in flight, a CERTIFY or CLUSTER to the laggard waits
    for w in worlds:
        choice = fifo_choice(w, None, 1)
        if choice is not None and hasattr(choice, "msg_id"):
            env = next(e for e in w.in_flight if e.id == choice.msg_id)
            if env.dst == aggregator(1) and isinstance(env.msg, Certify | Cluster):
                rest = [
                    e
                    for e in w.in_flight
                    if not (e.dst == aggregator(1) and isinstance(e.msg, Certify | Cluster))
                ]
                assert rest == [] and env is [e for e in w.in_flight if e not in rest][-1]


def test_a_swarm_draws_a_lagging_aggregator_among_the_correct_ones():
    import random

    from asfl.properties.search.runs import draw_plan

    plans = [draw_plan(random.Random(seed), SearchSetup(PARAMS)) for seed in range(100)]
    lagging = [p for p in plans if p.lagging is not None]
    assert 10 <= len(lagging) <= 45
    assert all(p.lagging not in p.byzantine for p in lagging)
    assert all(p.lagging is None for p in (draw_plan(random.Random(s), SETUP) for s in range(30)))


# -- P6: a certified contribution is resolved -----------------------------------------------------------
def test_p6_asks_that_a_client_resolves_what_t_a_plus_1_correct_certify_reached_it_with():
    """The clause holds on the protocol's runs, and fails on the same run once the client is made to
    keep the contribution that t_a + 1 correct CERTIFYs reached it with (as a client that refuses
    every CERTIFY would: the catalogue's certify-from-coordinator-only)."""
    setup = SearchSetup(PARAMS, adversaries=("coordinator",), swarm=False, max_chaos=100)
    found = find_run(setup, lambda ex: bool(ex.run.monitor.certifies_to), max_examples=10)
    assert found is not None
    run = found.run
    assert p6_budget(run) is None
    (c, r), results = next(iter(sorted(run.monitor.certifies_to.items())))
    assert any(len(signers) >= PARAMS.certificate_size for signers in results.values())
    world = run.world
    client = world.clients[c]
    key = next(k for k, signers in results.items() if len(signers) >= PARAMS.certificate_size)
    from asfl.spec.client import Outstanding

    kept = client.outstanding.set(r, Outstanding(key[1], r, False, world.domain.zero()))
    stuck = replace(world.clients[c], outstanding=kept)
    run2 = replace(run, world=_evolve(world, clients=tuple(stuck if x.c == c else x for x in world.clients)))
    v = p6_budget(run2)
    assert (
        v is not None and "never resolved its contribution to round" in v.reason and f"client {c}" in v.reason
    )


def test_the_monitor_records_only_correct_certifies_to_an_outstanding_contribution():
    found = find_run(SETUP, lambda ex: bool(ex.run.monitor.certifies_to), max_examples=10)
    assert found is not None
    ex = found
    worlds = _worlds(ex)
    seen: dict = {}
    for before, event in zip(worlds, ex.events, strict=False):
        if isinstance(event, Inject) or not hasattr(event, "msg_id"):
            continue
        env = next(e for e in before.in_flight if e.id == event.msg_id)
        if env.dst.role == "c" and isinstance(env.msg, Certify):
            pending = before.clients[env.dst.index].outstanding.get(env.msg.r)
            correct = env.src.index not in before.byzantine and env.msg.sig.signer == env.src.index
            if (
                correct
                and pending is not None
                and pending.cluster == env.msg.i
                and env.dst.index not in before.crashed
            ):
                key = (env.msg.r, env.msg.i, env.msg.members, env.msg.agg_digest)
                seen.setdefault((env.dst.index, env.msg.r), {}).setdefault(key, set()).add(env.src.index)
    assert seen == ex.run.monitor.certifies_to


def test_p4_judges_the_model_each_correct_aggregator_computed():
    """P4 reads a correct aggregator's own model and proof too (an aggregator a round behind that
    averages results of a later round builds a model no client takes, as it is not newer)."""
    from asfl.properties.judge.suite import p4_integrity

    setup = SearchSetup(PARAMS, adversaries=(), swarm=False)
    ex = execute(setup, Plan((3,), (), False, 0), random_chooser(__import__("random").Random(1)))
    assert p4_integrity(ex.run) is None
    world = ex.run.world
    a = next(x for x in world.aggregators if x is not None and x.model_round > 0)
    bumped = world.domain.apply_update(a.model, Form.symbol(("adv", -1)), 1)
    aggs = tuple(replace(x, model=bumped) if x is a else x for x in world.aggregators)
    v = p4_integrity(replace(ex.run, world=_evolve(world, aggregators=aggs)))
    assert v is not None and f"aggregator {a.j} computed model {a.model_round}" in v.reason


# -- as many contributions as members, one of them twice ----------------------------------------
def _twice(msg) -> bool:
    if not isinstance(msg, UnmaskReq):
        return False
    ids = [c.c for c in msg.contribs]
    return len(ids) == len(msg.members) and len(set(ids)) < len(ids)


def test_a_set_with_one_contribution_twice_and_one_member_left_out_is_refused():
    """`malformed` asks for its set S with as many contributions as members, the first member's
    twice and the second's left out (the length check alone passes it): every correct endorser
    refuses it by the one-to-one match (endorse rule)."""
    at_m2 = SearchSetup(Params(n_c=12, t_c=1, n_a=4, t_a=1, R=3), adversaries=SETUP.adversaries, swarm=False)
    found = find_run(
        at_m2, lambda ex: any(isinstance(e, Inject) and _twice(e.msg) for e in ex.events), max_examples=20
    )
    assert found is not None
    world = found.run.world
    asked = [e for e in found.events if isinstance(e, Inject) and _twice(e.msg)]
    for event in asked:
        assert event.dst.role == "a" and event.dst.index not in world.byzantine
        endorser = world.aggregators[event.dst.index]
        why = standard_endorse_problem(
            world.ctx, endorser.j, endorser.endorsed, aggregator(event.sender), event.msg
        )
        assert why == "contributions do not match S one to one"
        assert _refusal(on_unmask_req, world.ctx, endorser, aggregator(event.sender), event.msg) == "endorse"


def test_an_endorser_that_checks_only_the_count_of_contributions_leaks_a_member_p3(monkeypatch):
    """Without the one-to-one match (the mutation score's `sorted(...) != sorted(S)` made `is`), an
    endorser endorses the set with one contribution twice, and its share-sum reveals a combination
    of the members' values that is no allowed set's sum (P3)."""
    import asfl.spec.checks as checks

    real = checks.contribs_problem

    def count_only(ctx, r, members, contribs):
        if len(contribs) != len(members):
            return "contributions do not match S one to one"
        fake = frozenset(c.c for c in contribs)
        return real(ctx, r, fake, contribs) if len(fake) == len(contribs) else None

    at_m2 = SearchSetup(Params(n_c=12, t_c=1, n_a=4, t_a=1, R=3), adversaries=SETUP.adversaries, swarm=False)
    assert find_run(at_m2, lambda ex: p3_confidentiality(ex.run) is not None, max_examples=15) is None
    monkeypatch.setattr(checks, "contribs_problem", count_only)
    found = find_run(at_m2, lambda ex: p3_confidentiality(ex.run) is not None, max_examples=15)
    assert found is not None
