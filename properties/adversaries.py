"""Byzantine strategies: each a named adversary `World -> list[Inject]`, offered into `enabled`.

An adversary only offers; the scheduler (Hypothesis) decides which offer happens and when, so an
offer not taken is an omission, and any subset of destinations is a selective send. Every value an
adversary puts in a message is built from what the coalition has seen (`world.coalition_inbox`)
or is its own ("adv", n) symbol; signatures are its own or replayed (`world.coalition_seen`):
the world refuses anything else (ideal signatures). Offers are bounded per step, so the choice
stays small enough to explore and to shrink.

Named adversaries (usable alone or mixed, see `ADVERSARIES`):
  silent        sends nothing (t_a crashed aggregators: the P9 baseline)
  coordinator   follows the protocol as coordinator (UNMASK_REQ, REVEAL, CLUSTER), endorser and
                certifier, but per destination,
                so the scheduler can send CLUSTER or CERTIFY to only some correct aggregators
  equivocating  a coordinator that asks different correct aggregators to endorse different sets
                of one (round, cluster): the attack Q2 and the write-once rule exist for
  censoring     a coordinator that unmasks only sets of exactly m members, leaving the rest out
  wrong_sums    share-sums that differ from the sum of the shares received (A1 must catch them)
  forged        MODELs with an altered model, an altered or a self-signed cluster result, and
                CLUSTERs passed off as its own cluster's or that drop a member
  replay        re-sends messages it received earlier, to any correct party
  arbitrary     any well-typed message built from what the coalition knows
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence

from asfl.spec.aggregator import recompute_agg
from asfl.spec.messages import (
    CertifiedResult,
    Certify,
    Cluster,
    Contrib,
    Endorsement,
    Message,
    ModelMsg,
    Party,
    Reveal,
    ShareSum,
    Sig,
    UnmaskReq,
    aggregator,
    certify_payload,
    client,
    endorsement_payload,
    intent_payload,
)
from asfl.spec.world import Inject, World

from .symbolic import Form

Adversary = Callable[[World], list[Inject]]

#: offers per adversary per step, at most
MAX_OFFERS = 64


# -- what the coalition knows ------------------------------------------------------------------
def inbox(world: World) -> Iterable[Message]:
    return (env.msg for env in world.coalition_inbox)


def held_contribs(world: World, b: int) -> dict[int, dict[int, Contrib]]:
    """Round -> client -> the first CONTRIB of cluster b the coalition received as its coordinator."""
    out: dict[int, dict[int, Contrib]] = {}
    for env in world.coalition_inbox:
        msg = env.msg
        if isinstance(msg, Contrib) and env.dst == aggregator(b) and env.src == client(msg.c):
            if 0 <= msg.r < world.params.R and msg.c in world.ctx.clusters(msg.r)[b]:
                out.setdefault(msg.r, {}).setdefault(msg.c, msg)
    return out


def own_share_sum(world: World, b: int, r: int, i: int, contribs: Sequence[Contrib]) -> ShareSum:
    """The share-sum Byzantine aggregator b would honestly compute over `contribs`."""
    dom = world.domain
    total = dom.zero()
    for c in contribs:
        total = dom.add(total, c.sealed[b].share)
    members = frozenset(c.c for c in contribs)
    return ShareSum(r, i, members, b, total, Sig(b, endorsement_payload(r, i, members)))


def received_sums(world: World, b: int, r: int, members: frozenset[int]) -> dict[int, ShareSum]:
    out: dict[int, ShareSum] = {}
    for env in world.coalition_inbox:
        m = env.msg
        if isinstance(m, ShareSum) and env.dst == aggregator(b) and (m.r, m.i, m.members) == (r, b, members):
            out.setdefault(m.sender, m)
    return out


def received_endorsements(world: World, b: int, r: int, members: frozenset[int]) -> dict[int, Sig]:
    out: dict[int, Sig] = {}
    for env in world.coalition_inbox:
        m = env.msg
        if (
            isinstance(m, Endorsement)
            and env.dst == aggregator(b)
            and (m.r, m.i, m.members) == (r, b, members)
        ):
            out.setdefault(m.sender, m.sig)
    return out


def correct_aggregators(world: World) -> list[int]:
    return [j for j in range(world.params.n_a) if j not in world.byzantine]


def _in_flight(world: World, dst: Party, msg: Message) -> bool:
    return any(e.dst == dst and e.msg == msg for e in world.in_flight)


def _offer(world: World, b: int, dsts: Iterable[Party], msg: Message, out: list[Inject]) -> None:
    for dst in dsts:
        if not _in_flight(world, dst, msg):
            out.append(Inject(b, dst, msg))


def _bounded(offers: list[Inject]) -> list[Inject]:
    return offers[:MAX_OFFERS]  # in priority order: coordinator, endorser, certifier


# -- coordinator-like strategies ---------------------------------------------------------------
def _coordinate(
    world: World, sets: Callable[[World, dict[int, Contrib]], list[frozenset[int]]]
) -> list[Inject]:
    """Act as coordinator of every Byzantine cluster for the sets `sets` picks, as endorser for
    correct coordinators, and as certifier of every CLUSTER received; each offer per destination."""
    params = world.params
    out: list[Inject] = []
    correct = [aggregator(j) for j in correct_aggregators(world)]
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            # the sets it picks now, and every set it asked for before that correct aggregators endorsed
            endorsed_before = {
                env.msg.members
                for env in world.coalition_inbox
                if isinstance(env.msg, Endorsement)
                and (env.msg.r, env.msg.i) == (r, b)
                and env.msg.members <= set(held)
            }
            for members in sorted(set(sets(world, held)) | endorsed_before, key=sorted):
                contribs = tuple(held[c] for c in sorted(members))
                _offer(world, b, correct, UnmaskReq(r, b, members, contribs), out)
                sigs = received_endorsements(world, b, r, members)
                sigs[b] = Sig(b, intent_payload(r, b, members))
                if len(sigs) >= params.T:
                    _offer(
                        world, b, correct, Reveal(r, b, members, tuple(sigs[k] for k in sorted(sigs))), out
                    )
                sums = received_sums(world, b, r, members)
                sums[b] = own_share_sum(world, b, r, b, contribs)
                if len(sums) >= params.T:
                    chosen = tuple(sums[k] for k in sorted(sums)[: params.T])
                    own = Cluster(r, b, members, contribs, chosen)
                    _offer(world, b, correct, own, out)
                    _offer(world, b, correct + _clients_of(world, r, b), _certify(world, b, own), out)
        endorsed: dict[tuple[int, int, frozenset[int]], UnmaskReq] = {}
        for msg in inbox(world):
            if isinstance(msg, UnmaskReq) and msg.i not in world.byzantine:
                endorsed[(msg.r, msg.i, msg.members)] = msg
                sig = Sig(b, intent_payload(msg.r, msg.i, msg.members))
                _offer(world, b, [aggregator(msg.i)], Endorsement(msg.r, msg.i, msg.members, b, sig), out)
                if world.rules.reveal_quorum(params) == 0:
                    _offer(
                        world,
                        b,
                        [aggregator(msg.i)],
                        own_share_sum(world, b, msg.r, msg.i, msg.contribs),
                        out,
                    )
            elif isinstance(msg, Reveal) and (msg.r, msg.i, msg.members) in endorsed:
                req = endorsed[(msg.r, msg.i, msg.members)]
                _offer(
                    world, b, [aggregator(msg.i)], own_share_sum(world, b, msg.r, msg.i, req.contribs), out
                )
            elif isinstance(msg, Cluster) and _agg_of(world, msg) is not None:
                _offer(world, b, correct + _clients_of(world, msg.r, msg.i), _certify(world, b, msg), out)
    return _bounded(out)


def _clients_of(world: World, r: int, i: int) -> list[Party]:
    return [client(c) for c in sorted(world.ctx.clusters(r)[i])] if 0 <= r < world.params.R else []


def _certify(world: World, b: int, msg: Cluster) -> Certify:
    """Byzantine aggregator b's CERTIFY of the result a CLUSTER describes."""
    digest = world.domain.digest(recompute_agg(world.ctx, msg))
    return Certify(
        msg.r, msg.i, msg.members, digest, Sig(b, certify_payload(msg.r, msg.i, msg.members, digest))
    )


def _all_held(world: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
    return [frozenset(held)] if len(held) >= world.params.m else []


def _every_subset(world: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
    m = world.params.m
    keys = sorted(held)
    subsets = [frozenset(s) for k in range(len(keys), m - 1, -1) for s in itertools.combinations(keys, k)]
    return subsets[:6]


def _exactly_m(world: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
    keys = sorted(held)
    return (
        [frozenset(s) for s in itertools.combinations(keys, world.params.m)][:3]
        if len(keys) >= world.params.m
        else []
    )


def silent(world: World) -> list[Inject]:
    """Sends nothing: t_a aggregators that crashed at the start (P9)."""
    return []


def coordinator(world: World) -> list[Inject]:
    """Follows the protocol, but each send is offered per destination (selective CLUSTER/CERTIFY)."""
    return _coordinate(world, _all_held)


def equivocating(world: World) -> list[Inject]:
    """Asks different correct aggregators to endorse different sets of one (round, cluster) (Q2)."""
    return _coordinate(world, _every_subset)


def censoring(world: World) -> list[Inject]:
    """Unmasks only sets of exactly m members: the others are censored (I2 takes their count back)."""
    return _coordinate(world, _exactly_m)


def wrong_sums(world: World) -> list[Inject]:
    """Share-sums that are not the sum of the shares received: an added ("adv", step) value (A1)."""
    out: list[Inject] = []
    bump = Form.symbol(("adv", world.steps))
    for b in sorted(world.byzantine):
        for msg in inbox(world):
            if isinstance(msg, UnmaskReq) and msg.i not in world.byzantine:
                honest = own_share_sum(world, b, msg.r, msg.i, msg.contribs)
                bad = ShareSum(
                    honest.r,
                    honest.i,
                    honest.members,
                    b,
                    world.domain.add(honest.total, bump),
                    honest.endorsement,
                )
                _offer(world, b, [aggregator(msg.i)], bad, out)
        for r, held in held_contribs(world, b).items():
            if len(held) >= world.params.m:
                contribs = tuple(held[c] for c in sorted(held))
                honest = own_share_sum(world, b, r, b, contribs)
                sums = received_sums(world, b, r, honest.members)
                bad = ShareSum(
                    r, b, honest.members, b, world.domain.add(honest.total, bump), honest.endorsement
                )
                sums[b] = bad
                if len(sums) >= world.params.T:
                    cl = Cluster(r, b, honest.members, contribs, tuple(sums[k] for k in sorted(sums)))
                    _offer(world, b, [aggregator(j) for j in correct_aggregators(world)], cl, out)
    return _bounded(out)


def _agg_of(world: World, msg: Cluster):
    """agg of a CLUSTER the coalition received, or None for a malformed one (its own arbitrary sends)."""
    if len({s.sender for s in msg.sums}) != len(msg.sums):
        return None
    return recompute_agg(world.ctx, msg)


def _known_results(world: World) -> dict[tuple[int, int], CertifiedResult]:
    """Cluster results the coalition can put in a proof: agg from a CLUSTER it received, with the
    CERTIFY signatures it saw plus its own."""
    sigs: dict[tuple, dict[int, Sig]] = {}
    for msg in inbox(world):
        if isinstance(msg, Certify):
            sigs.setdefault((msg.r, msg.i, msg.members, msg.agg_digest), {})[msg.sig.signer] = msg.sig
    out: dict[tuple[int, int], CertifiedResult] = {}
    for msg in inbox(world):
        if isinstance(msg, Cluster) and (agg := _agg_of(world, msg)) is not None:
            digest = world.domain.digest(agg)
            key = (msg.r, msg.i, msg.members, digest)
            found = dict(sigs.get(key, {}))
            for b in world.byzantine:
                found[b] = Sig(b, certify_payload(*key))
            out.setdefault(
                (msg.r, msg.i),
                CertifiedResult(msg.i, msg.members, agg, tuple(found[s] for s in sorted(found))),
            )
    return out


def forged(world: World) -> list[Inject]:
    """Forged or altered MODEL and CLUSTER messages (P4 and the certify checks must refuse them):
    a model whose w is altered, a proof whose result's agg is altered, a proof with a result only
    the coalition signed, and a CLUSTER that drops a member but keeps the share-sums."""
    out: list[Inject] = []
    dom = world.domain
    bump = Form.symbol(("adv", world.steps))
    results = _known_results(world)
    quorum = world.params.n_a - world.params.t_a
    clients = [client(c) for c in range(world.params.n_c) if c not in world.crashed][:3]
    for b in sorted(world.byzantine):
        round0 = [res for (r, _i), res in sorted(results.items()) if r == 0][:quorum]
        if len(round0) >= quorum:
            total = dom.zero()
            for res in round0:
                total = dom.add(total, res.agg)
            count = sum(len(res.members) for res in round0)
            w = dom.apply_update(dom.genesis_model(), total, count)
            altered_w = dom.apply_update(dom.genesis_model(), dom.add(total, bump), count)
            _offer(world, b, clients, ModelMsg(1, altered_w, (tuple(round0),)), out)
            first = round0[0]
            tampered = CertifiedResult(first.i, first.members, dom.add(first.agg, bump), first.sigs)
            alt_proof = (tuple([tampered, *round0[1:]]),)
            _offer(world, b, clients, ModelMsg(1, w, alt_proof), out)
            _offer(world, b, clients, ModelMsg(1, w, (tuple(round0),)), out)
        # a result only the coalition signs, for its own cluster
        fake = CertifiedResult(
            b,
            world.ctx.clusters(0)[b],
            bump,
            tuple(
                Sig(x, certify_payload(0, b, world.ctx.clusters(0)[b], bump)) for x in sorted(world.byzantine)
            ),
        )
        others = [res for (r, i), res in sorted(results.items()) if r == 0 and i != b][: quorum - 1]
        proof = (tuple([fake, *others]),)
        total = dom.zero()
        for res in proof[0]:
            total = dom.add(total, res.agg)
        w = dom.apply_update(dom.genesis_model(), total, sum(len(res.members) for res in proof[0]))
        _offer(world, b, clients, ModelMsg(1, w, proof), out)
        for msg in inbox(world):
            if not isinstance(msg, Cluster):
                continue
            aggs = [aggregator(j) for j in correct_aggregators(world)]
            # passed off as the coalition's own cluster's result
            _offer(world, b, aggs, Cluster(msg.r, b, msg.members, msg.contribs, msg.sums), out)
            if len(msg.members) > 1:
                drop = sorted(msg.members)[0]
                members = msg.members - {drop}
                contribs = tuple(c for c in msg.contribs if c.c != drop)
                _offer(world, b, aggs, Cluster(msg.r, b, members, contribs, msg.sums), out)
    return _bounded(out)


def replay(world: World) -> list[Inject]:
    """Re-sends the last messages it received to every correct aggregator (and MODEL/CERTIFY to
    clients): stale rounds, duplicate endorsements, duplicate certificates."""
    out: list[Inject] = []
    aggs = [aggregator(j) for j in correct_aggregators(world)]
    for b in sorted(world.byzantine):
        for env in world.coalition_inbox[-4:]:
            dsts = aggs + ([client(0)] if isinstance(env.msg, Certify | ModelMsg) else [])
            _offer(world, b, dsts, env.msg, out)
    return _bounded(out)


def arbitrary(world: World) -> list[Inject]:
    """Any well-typed message built from what the coalition knows: its inbox's contributions,
    share-sums, values and signatures, recombined at random (seeded by the world, so the offers
    are a function of the world), plus its own ("adv", n) values."""
    if not world.byzantine:
        return []
    rng = random.Random(world.steps * 7919 + len(world.coalition_inbox))
    msgs = list(inbox(world))
    contribs = [m for m in msgs if isinstance(m, Contrib)]
    for m in msgs:
        if isinstance(m, UnmaskReq | Cluster):
            contribs += list(m.contribs)
    sums = [m for m in msgs if isinstance(m, ShareSum)]
    values: list[Form] = [Form.symbol(("adv", world.steps))]
    values += [m.total for m in sums] + [c.y for c in contribs]
    params = world.params
    parties = [aggregator(j) for j in range(params.n_a)] + [client(c) for c in range(params.n_c)]
    out: list[Inject] = []
    for _ in range(8):
        b = rng.choice(sorted(world.byzantine))
        kind = rng.randrange(6)
        r = rng.randrange(params.R)
        i = rng.randrange(params.n_a)
        dst = rng.choice(parties)
        members = frozenset(c.c for c in contribs if c.r == r) if contribs else frozenset()
        chosen = tuple(sorted({c.c: c for c in contribs if c.r == r}.values(), key=lambda c: c.c))
        if kind == 0 and contribs:
            msg: Message = rng.choice(contribs)
        elif kind == 1:
            msg = UnmaskReq(r, b, members, chosen)
        elif kind == 2:
            msg = ShareSum(r, i, members, b, rng.choice(values), Sig(b, endorsement_payload(r, i, members)))
        elif kind == 3:
            picked = tuple(rng.sample(sums, min(len(sums), params.T)))
            msg = Cluster(r, b, members, chosen, picked)
        elif kind == 4:
            v = rng.choice(values)
            msg = Certify(r, i, members, v, Sig(b, certify_payload(r, i, members, v)))
        else:
            v = rng.choice(values)
            res = CertifiedResult(i, members, v, (Sig(b, certify_payload(0, i, members, v)),))
            msg = ModelMsg(1, ((v, max(len(members), 1)),), ((res,),))
        out.append(Inject(b, dst, msg))
    return out


ADVERSARIES: dict[str, Adversary] = {
    "silent": silent,
    "coordinator": coordinator,
    "equivocating": equivocating,
    "censoring": censoring,
    "wrong_sums": wrong_sums,
    "forged": forged,
    "replay": replay,
    "arbitrary": arbitrary,
}


def mixed(names: Sequence[str]) -> Adversary:
    """The union of the named adversaries' offers."""
    chosen = [ADVERSARIES[n] for n in names]

    def adversary(world: World) -> list[Inject]:
        out: list[Inject] = []
        for adv in chosen:
            out += adv(world)
        return out

    adversary.__name__ = "+".join(names) or "silent"
    return adversary
