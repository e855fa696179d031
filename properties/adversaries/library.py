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
  late_censor   a coordinator that censors a client it also coordinates in the next round, but only
                once it holds that client's next-round contribution (I1 against a carry-over)
  wrong_sums    share-sums that differ from the sum of the shares received (A1 must catch them)
  forged        MODELs with an altered model, an altered or a self-signed cluster result, and
                CLUSTERs passed off as its own cluster's or that drop a member
  replay        re-sends messages it received earlier, to any correct party
  arbitrary     any well-typed message built from what the coalition knows
  serial_equivocation  a coordinator that equivocates one set per correct endorser, in turn (F1)
  split_equivocation   a coordinator that gets one set endorsed by each group of T - t_a correct
                aggregators (the attack on a threshold below Q2, at any size)
  hasty_equivocation   a coordinator that gets a different set endorsed by each correct endorser and
                REVEALs each at once, short of T (the attack on the reveal quorum; opt-in)
  outside_set   a coordinator that asks to unmask sets the endorse rule must refuse
  self_certified  MODELs whose every cluster result only the coalition certified (Q6)
  malformed     messages the rules must refuse: CERTIFYs of another set, forwarded, duplicated or
                carrying a signature of other content; UNMASK_REQs with a stale or a duplicate
                contribution or under a later round's slot; its own share-sums and ENDORSEs
                relabelled; a CLUSTER short of T share-sums; a proof with a result twice, a model
                that is not its proof's average, a proof with signatures of other content
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TypeVar

from asfl.properties.adversaries.memo import IdentityMemo
from asfl.properties.adversaries.offers import Offer, Payload, coalition_in_flight, in_flight, offers
from asfl.properties.domains.symbolic import Form
from asfl.spec.aggregator import recompute_agg, share_sum_total
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

Adversary = Callable[[World], list[Inject]]
T = TypeVar("T")

#: offers per adversary per step, at most
MAX_OFFERS = 64
#: offers of `arbitrary` per step (random recombinations, drawn afresh each step)
ARBITRARY_OFFERS = 8


# -- what the coalition knows ------------------------------------------------------------------
def inbox(world: World) -> Iterable[Message]:
    return (env.msg for env in world.coalition_inbox)


_MEMO = IdentityMemo()


class InboxView:
    """What the coalition's inbox says, kept up to date incrementally: the inbox only grows along
    a run, so each envelope is read once, not once per step (issue 12, the fast step).

    `held[b][r][c]`: the first CONTRIB of cluster b the coalition received as its coordinator;
    `sums` / `sigs`: the SHARE_SUMs and ENDORSEs it received as coordinator, by (b, r, S);
    `answers[b]`: what b sends as endorser of correct coordinators and certifier of the CLUSTERs
    it received (`_coordinate`), in inbox order."""

    def __init__(self, world: World) -> None:
        self.ctx = world.ctx
        self.size = 0
        self.inbox: tuple = ()  # the inbox read
        self.held: dict[int, dict[int, dict[int, Contrib]]] = {b: {} for b in world.byzantine}
        self.sums: dict[tuple, dict[int, ShareSum]] = {}
        self.sigs: dict[tuple, dict[int, Sig]] = {}
        self.answers: dict[int, list[Inject]] = {b: [] for b in world.byzantine}
        self._endorsed: dict[int, dict[tuple, UnmaskReq]] = {b: {} for b in world.byzantine}
        #: the CERTIFYs and CLUSTERs received, in inbox order (`_known_results`, `malformed_models`)
        self.certifies: list[Certify] = []
        self.clusters: list[Cluster] = []
        #: the UNMASK_REQs of correct coordinators received, in inbox order (`signed_otherwise`)
        self.requests: list[UnmaskReq] = []
        #: (CERTIFYs read, CLUSTERs read) -> what was derived from them, the last one only
        self.derived: dict[str, tuple[tuple[int, int], object]] = {}

    def follows(self, world: World) -> bool:
        """Whether `world`'s inbox begins with the one read: along a run it only grows, but the
        explorer's states branch, and two branches may hold the same envelopes in another order."""
        inbox = world.coalition_inbox
        return world.ctx is self.ctx and (
            inbox is self.inbox or (len(inbox) >= self.size and inbox[: self.size] == self.inbox)
        )

    def derive(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` of what the CERTIFYs and CLUSTERs read so far give, once per new one of them
        (the fair phase asks at every step the inbox grows, mostly by other messages)."""
        mark = (len(self.certifies), len(self.clusters))
        hit = self.derived.get(name)
        if hit is not None and hit[0] == mark:
            return hit[1]  # type: ignore[return-value]
        value = compute()
        self.derived[name] = (mark, value)
        return value

    def catch_up(self, world: World) -> None:
        inbox = world.coalition_inbox
        for env in inbox[self.size :]:
            self._read(world, env)
        self.size = len(inbox)
        self.inbox = inbox

    def _read(self, world: World, env) -> None:
        msg, dst = env.msg, env.dst
        params = world.params
        if dst.role != "a" or dst.index not in world.byzantine:
            return
        b = dst.index
        if isinstance(msg, Certify):
            self.certifies.append(msg)
        elif isinstance(msg, Cluster):
            self.clusters.append(msg)
        elif isinstance(msg, UnmaskReq) and msg.i not in world.byzantine:
            self.requests.append(msg)
        if isinstance(msg, Contrib) and env.src == client(msg.c):
            if 0 <= msg.r < params.R and msg.c in world.ctx.clusters(msg.r)[b]:
                self.held[b].setdefault(msg.r, {}).setdefault(msg.c, msg)
        elif isinstance(msg, ShareSum) and msg.i == b:
            self.sums.setdefault((b, msg.r, msg.members), {}).setdefault(msg.sender, msg)
        elif isinstance(msg, Endorsement) and msg.i == b:
            self.sigs.setdefault((b, msg.r, msg.members), {}).setdefault(msg.sender, msg.sig)
        # every Byzantine aggregator answers what any of them received (the coalition colludes)
        for x in sorted(world.byzantine):
            self._answer(world, x, msg)

    def _answer(self, world: World, b: int, msg: Message) -> None:
        out, endorsed = self.answers[b], self._endorsed[b]
        if isinstance(msg, UnmaskReq) and msg.i not in world.byzantine:
            endorsed[(msg.r, msg.i, msg.members)] = msg
            out += offers(b, [aggregator(msg.i)], _head(Endorsement, msg), lambda: _endorsement(b, msg))
            # and its ENDORSE relabelled (another set, another cluster), which the coordinator must
            # refuse: one counted among its T spoils the REVEAL (issue 13, `relabelled`)
            relabels = [m for m in relabelled(world, b, msg) if isinstance(m, Endorsement)]
            out += [Inject(b, aggregator(msg.i), m) for m in relabels]
            if world.rules.reveal_quorum(world.params) == 0:
                out += _share_sum_offers(world, b, msg)
        elif isinstance(msg, Reveal) and (msg.r, msg.i, msg.members) in endorsed:
            out += _share_sum_offers(world, b, endorsed[(msg.r, msg.i, msg.members)])
        elif isinstance(msg, Cluster) and _well_formed(msg):
            correct = [aggregator(j) for j in correct_aggregators(world)]
            dsts = correct + _clients_of(world, msg.r, msg.i)
            out += offers(b, dsts, _head(Certify, msg), lambda: _certify(world, b, msg))


def _head(kind: type, msg: UnmaskReq | Reveal | Cluster) -> tuple:
    """The head (offers.head) of a message of `kind` about the (round, cluster, set) of `msg`."""
    return (kind, msg.r, msg.i, msg.members)


def _endorsement(b: int, req: UnmaskReq) -> Endorsement:
    """Byzantine aggregator b's ENDORSE of a correct coordinator's UNMASK_REQ."""
    return Endorsement(req.r, req.i, req.members, b, Sig(b, intent_payload(req.r, req.i, req.members)))


def _share_sum_offers(world: World, b: int, req: UnmaskReq) -> list[Offer]:
    """Byzantine aggregator b's share-sum over the contributions of `req`, to its coordinator."""
    return offers(
        b,
        [aggregator(req.i)],
        _head(ShareSum, req),
        lambda: own_share_sum(world, b, req.r, req.i, req.contribs),
    )


_VIEWS: list[InboxView] = []


def inbox_view(world: World) -> InboxView:
    """The coalition's inbox of `world`, read incrementally (the views of the last few runs)."""
    view = next((v for v in _VIEWS if v.follows(world)), None)
    if view is None:
        view = InboxView(world)
        _VIEWS.insert(0, view)
        del _VIEWS[4:]
    view.catch_up(world)
    return view


def held_contribs(world: World, b: int) -> dict[int, dict[int, Contrib]]:
    """Round -> client -> the first CONTRIB of cluster b the coalition received as its coordinator
    (read only: the view's own table)."""
    return inbox_view(world).held.get(b, {})


def own_share_sum(world: World, b: int, r: int, i: int, contribs: Sequence[Contrib]) -> ShareSum:
    """The share-sum Byzantine aggregator b would honestly compute over `contribs`."""
    return _MEMO.get(
        ("share-sum", world.ctx, b, r, i, *contribs), lambda: _own_share_sum(world, b, r, i, contribs)
    )


def coalition_share_sums(world: World, r: int, i: int, contribs: Sequence[Contrib]) -> dict[int, ShareSum]:
    """The share-sum of every Byzantine aggregator over `contribs`: the coalition reads the shares
    sealed to each of its members, so a Byzantine coordinator counts all t_a of them towards T, not
    only its own (at t_a >= 2 counting one left it a share-sum short of every attack)."""
    return {x: own_share_sum(world, x, r, i, contribs) for x in sorted(world.byzantine)}


def _own_share_sum(world: World, b: int, r: int, i: int, contribs: Sequence[Contrib]) -> ShareSum:
    total = share_sum_total(world.ctx, b, contribs)
    members = frozenset(c.c for c in contribs)
    return ShareSum(r, i, members, b, total, Sig(b, endorsement_payload(r, i, members)))


def received_sums(world: World, b: int, r: int, members: frozenset[int]) -> dict[int, ShareSum]:
    """Sender -> the first SHARE_SUM of (r, b, S) that Byzantine coordinator b received (a copy)."""
    return dict(inbox_view(world).sums.get((b, r, members), {}))


def received_endorsements(world: World, b: int, r: int, members: frozenset[int]) -> dict[int, Sig]:
    """Sender -> the signature of the first ENDORSE of (r, b, S) that b received (a copy)."""
    return dict(inbox_view(world).sigs.get((b, r, members), {}))


def correct_aggregators(world: World) -> list[int]:
    return [j for j in range(world.params.n_a) if j not in world.byzantine]


def _in_flight(world: World, event: Inject) -> bool:
    """Whether the coalition's `event` is still in flight (nothing is offered twice); an offer's
    payload is built only if a message of its head is on its way to its destination."""
    return in_flight(_MEMO.get(("in-flight", world.in_flight), lambda: coalition_in_flight(world)), event)


def _offer(world: World, b: int, dsts: Iterable[Party], msg: Message, out: list[Inject]) -> None:
    for dst in dsts:
        event = Inject(b, dst, msg)
        if not _in_flight(world, event):
            out.append(event)


def _offer_all(world: World, candidates: Iterable[Inject], out: list[Inject]) -> None:
    """The `candidates` (offers of one message) not already in flight."""
    out.extend(o for o in candidates if not _in_flight(world, o))


def _candidate(b: int, dsts: Iterable[Party], msg: Message, out: list[Inject]) -> None:
    out.extend(Inject(b, dst, msg) for dst in dsts)


def _bounded(offers: list[Inject]) -> list[Inject]:
    return offers[:MAX_OFFERS]  # in priority order: coordinator, endorser, certifier


# -- coordinator-like strategies ---------------------------------------------------------------
def _coordinate(
    world: World, sets: Callable[[World, dict[int, Contrib]], list[frozenset[int]]]
) -> list[Inject]:
    """Act as coordinator of every Byzantine cluster for the sets `sets` picks, as endorser for
    correct coordinators, and as certifier of every CLUSTER received; each offer per destination.
    The endorser's and certifier's answers are read once per message (`InboxView`); the offers are
    the first MAX_OFFERS of them, in priority order, that are not already in flight."""
    view = inbox_view(world)

    def candidates() -> Iterator[Inject]:
        for b in sorted(world.byzantine):
            yield from _lead(world, view, b, sets)
            yield from view.answers[b]

    fresh = (o for o in candidates() if not _in_flight(world, o))
    return list(itertools.islice(fresh, MAX_OFFERS))


def _lead(
    world: World, view: InboxView, b: int, sets: Callable[[World, dict[int, Contrib]], list[frozenset[int]]]
) -> list[Inject]:
    """Byzantine b as coordinator of its own clusters: UNMASK_REQ of the sets `sets` picks and of
    every set it asked for before that correct aggregators endorsed, REVEAL once T endorse one,
    and CLUSTER with the coalition's CERTIFY once T share-sums of one are held."""
    params = world.params
    out: list[Inject] = []
    correct = [aggregator(j) for j in correct_aggregators(world)]
    for r, held in sorted(view.held.get(b, {}).items()):
        endorsed_before = {
            members for (x, r2, members) in view.sigs if x == b and r2 == r and members <= held.keys()
        }
        for members in sorted(set(sets(world, held)) | endorsed_before, key=sorted):
            contribs = tuple(held[c] for c in sorted(members))
            _candidate(b, correct, UnmaskReq(r, b, members, contribs), out)
            slot = (r, b, members)
            sigs = view.sigs.get((b, r, members), {})  # the view's tables are keyed (b, r, S)
            if len(sigs.keys() | {b}) >= params.T:
                out += offers(b, correct, (Reveal, *slot), _reveal_of(dict(sigs), b, slot))
            sums = view.sums.get((b, r, members), {})
            if len(sums.keys() | world.byzantine) >= params.T:
                own = Payload(_own_cluster(world, dict(sums), b, slot, contribs))
                out += offers(b, correct, (Cluster, *slot), own)
                out += offers(
                    b, correct + _clients_of(world, r, b), (Certify, *slot), _certify_of(world, b, own)
                )
    return out


def _reveal_of(sigs: dict[int, Sig], b: int, slot: tuple[int, int, frozenset[int]]) -> Callable[[], Reveal]:
    """Coordinator b's REVEAL of `slot` = (r, b, S): the ENDORSEs it received (`sigs`, by sender,
    its own) and its own."""

    def build() -> Reveal:
        r, _, members = slot
        sigs[b] = Sig(b, intent_payload(r, b, members))
        return reveal(r, b, members, sigs)

    return build


def _own_cluster(
    world: World,
    sums: dict[int, ShareSum],
    b: int,
    slot: tuple[int, int, frozenset[int]],
    contribs: tuple[Contrib, ...],
) -> Callable[[], Cluster]:
    """Coordinator b's CLUSTER of `slot` = (r, b, S), built when drawn (`own_cluster`) from the
    share-sums it received (`sums`, its own copy)."""
    return lambda: own_cluster(world, b, slot[0], slot[2], contribs, sums)


def own_cluster(
    world: World,
    b: int,
    r: int,
    members: frozenset[int],
    contribs: tuple[Contrib, ...],
    received: dict[int, ShareSum],
) -> Cluster:
    """Byzantine coordinator b's CLUSTER of (r, b, S = `members`) over `contribs`: the first T
    share-sums, by sender, of those it `received` and the coalition's own (`coalition_share_sums`);
    `received` is updated with the coalition's."""
    received.update(coalition_share_sums(world, r, b, contribs))
    chosen = tuple(received[k] for k in sorted(received)[: world.params.T])
    # the same CLUSTER object while its parts are the same, so its CERTIFY is memoised
    return _MEMO.get(
        ("own-cluster", world.ctx, r, b, members, *contribs, *chosen),
        lambda: Cluster(r, b, members, contribs, chosen),
    )


def coalition_endorsements(world: World, b: int, r: int, members: frozenset[int]) -> dict[int, Sig]:
    """Signer -> signature of the ENDORSEs of (r, b, S) the coalition holds: those Byzantine
    coordinator b received and every Byzantine aggregator's own."""
    sigs = received_endorsements(world, b, r, members)
    for x in sorted(world.byzantine):
        sigs[x] = Sig(x, intent_payload(r, b, members))
    return sigs


def reveal(r: int, i: int, members: frozenset[int], sigs: dict[int, Sig]) -> Reveal:
    """REVEAL of (r, i, S) with the endorsement signatures `sigs` (by signer), in signer order."""
    return Reveal(r, i, members, tuple(sigs[k] for k in sorted(sigs)))


def _certify_of(world: World, b: int, cluster: Callable[[], Cluster]) -> Callable[[], Certify]:
    """Byzantine aggregator b's CERTIFY of the CLUSTER `cluster` builds."""
    return lambda: _certify(world, b, cluster())


def _clients_of(world: World, r: int, i: int) -> list[Party]:
    return [client(c) for c in sorted(world.ctx.clusters(r)[i])] if 0 <= r < world.params.R else []


def _certify(world: World, b: int, msg: Cluster) -> Certify:
    """Byzantine aggregator b's CERTIFY of the result a CLUSTER describes."""
    return _MEMO.get(("certify", world.ctx, b, msg), lambda: _make_certify(world, b, msg))


def _make_certify(world: World, b: int, msg: Cluster) -> Certify:
    digest = world.domain.digest(_recompute(world, msg))
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


def late_prey(world: World, b: int, r: int) -> int | None:
    """The client Byzantine coordinator b censors late in round r: the lowest member of its
    cluster in both r and r + 1 (public: the shuffle is), or None when there is none."""
    if not 0 <= r < world.params.R - 1:
        return None
    both = world.ctx.clusters(r)[b] & world.ctx.clusters(r + 1)[b]
    return min(both) if both else None


def late_victims(world: World) -> frozenset[int]:
    """The clients the late censor has censored or holds back: each prey whose CONTRIBs of both
    rounds reached its Byzantine coordinator. Its round-(r + 1) contribution was sent while its
    round-r release still counted (I2 is pessimistic), so with Q reached it carried noise only; the
    certificate then takes the round-r release back, and a bounded run may end before the client
    gets a slot to release again."""
    out: set[int] = set()
    for b in world.byzantine:
        held = held_contribs(world, b)
        for r in range(world.params.R - 1):
            prey = late_prey(world, b, r)
            if prey is not None and prey in held.get(r, {}) and prey in held.get(r + 1, {}):
                out.add(prey)
    return frozenset(out)


def _late_sets(world: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
    """The late censor's set for the (round, cluster) of `held`: hold back until the prey's own
    CONTRIB of the next round is held too, then every member held but the prey (I4 broken on
    purpose); a cluster without a prey is coordinated as the protocol says (all it holds)."""
    m = world.params.m
    if not held:
        return []
    some = next(iter(held.values()))
    r, b = some.r, world.ctx.cluster_of(some.r, some.c)
    prey = late_prey(world, b, r)
    if prey is None:
        return [frozenset(held)] if len(held) >= m else []
    if prey not in held_contribs(world, b).get(r + 1, {}):
        return []  # the prey has not contributed to r + 1 yet: a certificate now would be harmless
    kept = frozenset(held) - {prey}
    return [kept] if len(kept) >= m else []


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


def late_censor(world: World) -> list[Inject]:
    """Censors a client of its round-r cluster that it also coordinates in round r + 1, and only
    once it holds that client's round-(r + 1) CONTRIB: the certificate that leaves it out makes
    the client carry its round-r contribution over (I3), and I1 alone stops it from carrying it
    into r + 1, where it already contributed. A carry-over that ignores I1 re-masks it with the
    pad of (c, r + 1) and sends it to the same coordinator: two CONTRIBs under one pad, whose
    difference is the two values' difference (P3). The model of r + 1 needs only n_a - t_a
    clusters, so the prey gets it while the censor holds its round-r set back."""
    return _coordinate(world, _late_sets)


def wrong_sums(world: World) -> list[Inject]:
    """Share-sums that are not the sum of the shares received: an added ("adv", step) value (A1)."""
    out: list[Inject] = []
    bump = Form.symbol(("adv", world.steps))
    for b in sorted(world.byzantine):
        for msg in inbox(world):
            if isinstance(msg, UnmaskReq) and msg.i not in world.byzantine:
                bad = offers(b, [aggregator(msg.i)], _head(ShareSum, msg), _bumped(world, b, msg, bump))
                _offer_all(world, bad, out)
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


def _well_formed(msg: Cluster) -> bool:
    """Whether a CLUSTER has its agg (section 6): its share-sums are of distinct senders (the
    coalition's own arbitrary sends may repeat one)."""
    return len({s.sender for s in msg.sums}) == len(msg.sums)


def _bumped(world: World, b: int, req: UnmaskReq, bump: Form) -> Callable[[], ShareSum]:
    """Byzantine b's share-sum over the contributions of `req`, plus `bump`, under its own signature."""

    def build() -> ShareSum:
        honest = own_share_sum(world, b, req.r, req.i, req.contribs)
        total = world.domain.add(honest.total, bump)
        return ShareSum(honest.r, honest.i, honest.members, b, total, honest.endorsement)

    return build


def _agg_of(world: World, msg: Cluster):
    """agg of a CLUSTER the coalition received, or None for a malformed one (its own arbitrary sends)."""
    return _recompute(world, msg) if _well_formed(msg) else None


def _recompute(world: World, msg: Cluster):
    """agg = sum(ys) - interpolate(sums) of a CLUSTER (section 6), once per message."""
    return _MEMO.get(("agg", world.ctx, msg), lambda: recompute_agg(world.ctx, msg))


def _known_results(world: World) -> dict[tuple[int, int], CertifiedResult]:
    """Cluster results the coalition can put in a proof: agg from a CLUSTER it received, with the
    CERTIFY signatures it saw plus its own (read only: derived once per CERTIFY or CLUSTER)."""
    view = inbox_view(world)
    return view.derive("known-results", lambda: _derive_known_results(world, view))


def _derive_known_results(world: World, view: InboxView) -> dict[tuple[int, int], CertifiedResult]:
    sigs: dict[tuple, dict[int, Sig]] = {}
    for msg in view.certifies:
        sigs.setdefault((msg.r, msg.i, msg.members, msg.agg_digest), {})[msg.sig.signer] = msg.sig
    out: dict[tuple[int, int], CertifiedResult] = {}
    for msg in view.clusters:
        if (agg := _agg_of(world, msg)) is not None:
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


#: the shapes of the sets `arbitrary` builds (issue 13): the one the endorse rule accepts, and each
#: one it must refuse. "subset": fewer members, down to none (|S| < m); "duplicate": a contribution
#: twice; "outsider": a contribution of a client outside S_i^r; "stale": a member's contribution of
#: another round; "other_slot": the set under another round's slot (out of order across rounds);
#: "mismatch": S and the contributions disagree
SET_SHAPES = ("well_formed", "subset", "duplicate", "outsider", "stale", "other_slot", "mismatch")


def _arbitrary_set(
    rng: random.Random, world: World, contribs: Sequence[Contrib], r: int, i: int
) -> tuple[int, frozenset[int], tuple[Contrib, ...]]:
    """(slot's round, S, contributions) of a set for cluster i of round r, of a shape drawn from
    SET_SHAPES, over the contributions the coalition knows (`contribs`)."""
    params = world.params
    first: dict[tuple[int, int], Contrib] = {}
    for c in contribs:
        first.setdefault((c.r, c.c), c)
    cluster = world.ctx.clusters(r)[i]
    own = [c for (r2, k), c in sorted(first.items()) if r2 == r and k in cluster]
    chosen = list(own)
    slot = r
    shape = rng.choice(SET_SHAPES)
    if shape == "subset" and own:
        chosen = rng.sample(own, rng.randrange(len(own)))
    elif shape == "duplicate" and own:
        chosen = [*own, rng.choice(own)]
    elif shape == "outsider":
        outsiders = [c for (r2, k), c in sorted(first.items()) if r2 == r and k not in cluster]
        if outsiders:
            chosen = [*own, rng.choice(outsiders)]
    elif shape == "stale":
        # a member's contribution of another round, in place of its own (or any client's, added)
        other = [c for (r2, _k), c in sorted(first.items()) if r2 != r]
        stale = [c for c in other if c.c in cluster] or other
        if stale:
            old = rng.choice(stale)
            chosen = [c for c in own if c.c != old.c] + [old]
    elif shape == "other_slot" and params.R > 1:
        slot = rng.choice([x for x in range(params.R) if x != r])
    chosen.sort(key=lambda c: (c.c, c.r))
    members = frozenset(c.c for c in chosen)
    if shape == "mismatch":
        members = members - {chosen[0].c} if chosen else frozenset(sorted(cluster)[:1])
    return slot, members, tuple(chosen)


def arbitrary(world: World) -> list[Inject]:
    """Any well-typed message built from what the coalition knows: its inbox's contributions,
    share-sums, values and signatures, recombined at random (seeded by the world, so the offers
    are a function of the world), plus its own ("adv", n) values. The sets of its UNMASK_REQs,
    REVEALs, CLUSTERs and CERTIFYs take every shape of SET_SHAPES, so the sets the endorse rule
    must refuse (duplicates, outsiders, stale rounds, another round's slot, |S| < m) are reachable
    (issue 13); a REVEAL carries any subset of the endorsement signatures it holds (fewer than T
    too), a CERTIFY the coalition's signature or a correct one of other content, and any message
    it received may be forwarded to anyone. At most ARBITRARY_OFFERS offers per step."""
    if not world.byzantine:
        return []
    rng = random.Random(world.steps * 7919 + len(world.coalition_inbox))
    msgs = list(inbox(world))
    contribs = [m for m in msgs if isinstance(m, Contrib)]
    for m in msgs:
        if isinstance(m, UnmaskReq | Cluster):
            contribs += list(m.contribs)
    sums = [m for m in msgs if isinstance(m, ShareSum)]
    endorsements = [m.sig for m in msgs if isinstance(m, Endorsement)]
    endorsements += [s for m in msgs if isinstance(m, Reveal) for s in m.sigs]
    certified = [m.sig for m in msgs if isinstance(m, Certify) and m.sig.signer not in world.byzantine]
    values: list[Form] = [Form.symbol(("adv", world.steps))]
    values += [m.total for m in sums] + [c.y for c in contribs]
    params = world.params
    parties = [aggregator(j) for j in range(params.n_a)] + [client(c) for c in range(params.n_c)]
    correct = [aggregator(j) for j in correct_aggregators(world)] or parties
    out: list[Inject] = []
    for _ in range(ARBITRARY_OFFERS):
        b = rng.choice(sorted(world.byzantine))
        kind = rng.randrange(8)
        r = rng.randrange(params.R)
        i = rng.randrange(params.n_a)
        dst = rng.choice(parties)
        # the coordinator's own cluster for the messages only its coordinator sends
        slot, members, chosen = _arbitrary_set(rng, world, contribs, r, b if kind in (1, 3, 6) else i)
        if kind == 0 and contribs:
            msg: Message = rng.choice(contribs)
        elif kind == 1:
            msg, dst = UnmaskReq(slot, b, members, chosen), rng.choice(correct)
        elif kind == 2:
            sig = Sig(b, endorsement_payload(slot, i, members))
            msg = ShareSum(slot, i, members, b, rng.choice(values), sig)
        elif kind == 3:
            picked = tuple(rng.sample(sums, min(len(sums), params.T)))
            msg, dst = Cluster(slot, b, members, chosen, picked), rng.choice(correct)
        elif kind == 4:
            v = rng.choice(values)
            sig = Sig(b, certify_payload(slot, i, members, v))
            if certified and rng.random() < 0.25:
                sig = rng.choice(certified)  # a correct signature, of other content
            msg = Certify(slot, i, members, v, sig)
        elif kind == 5:
            v = rng.choice(values)
            res = CertifiedResult(i, members, v, (Sig(b, certify_payload(0, i, members, v)),))
            msg = ModelMsg(1, ((v, max(len(members), 1)),), ((res,),))
        elif kind == 6:
            intent = intent_payload(slot, b, members)
            held = [Sig(x, intent) for x in sorted(world.byzantine)]
            held += [s for s in endorsements if s.payload == intent]
            held += rng.sample(endorsements, min(len(endorsements), 2))  # of other sets
            sigs = tuple(rng.sample(held, rng.randint(0, len(held))))
            msg, dst = Reveal(slot, b, members, sigs), rng.choice(correct)
        elif msgs:
            msg = rng.choice(msgs)  # a message it received, forwarded to anyone
        else:
            continue
        out.append(Inject(b, dst, msg))
    return out


# -- targeted attacks on the endorse and certify rules (issue 6) --------------------------------
def _candidate_sets(world: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
    """Distinct sets of `held` with at least m members, smallest first: the sets an equivocating
    coordinator asks for, one per correct endorser (F1 needs three overlapping ones for {4, 5}:
    {4}, {5}, {4, 5})."""
    m, keys = world.params.m, sorted(held)
    if len(keys) <= m:
        return []  # one set only: nothing to equivocate between
    subsets = [frozenset(s) for k in range(m, len(keys) + 1) for s in itertools.combinations(keys, k)]
    return subsets[: world.params.n_a - world.params.t_a]


def _senders_of_sums(world: World, b: int, r: int) -> set[int]:
    """Correct aggregators whose share-sum for some set of (r, b) reached the coalition."""
    return {
        env.msg.sender
        for env in world.coalition_inbox
        if isinstance(env.msg, ShareSum) and env.dst == aggregator(b) and (env.msg.r, env.msg.i) == (r, b)
    }


def _get_revealed(
    world: World,
    b: int,
    slot: tuple[int, int],
    members: frozenset[int],
    contribs: tuple[Contrib, ...],
    target: int,
    out: list[Inject],
    reveal_to_all: bool = False,
) -> None:
    """One step of "get `members` endorsed under `slot` = (r, b) and revealed by `target`": ask
    `target` first, then only as many other correct aggregators as T endorsements still need (the
    next ones after `target`, so equivocations to several endorsers do not cross), and REVEAL to
    `target` (or, with `reveal_to_all`, to every correct endorser) once T endorsements are held
    (the coalition signs its own). Nothing is offered twice while it is in flight or answered."""
    r, i = slot
    correct = correct_aggregators(world)
    req = UnmaskReq(r, i, members, contribs)
    sigs = coalition_endorsements(world, b, r, members)  # i is b: the coordinator's own cluster
    asked = set(sigs) | _endorsers_of(world, b, r, members)  # slot i is b: its own cluster's index
    if target not in sigs:
        if target not in asked:
            _offer(world, b, [aggregator(target)], req, out)
        return
    if len(sigs) < world.params.T:
        k = correct.index(target)
        helpers = [j for j in correct[k + 1 :] + correct[:k] if j not in sigs]
        wanted = helpers[: world.params.T - len(sigs)]
        _offer(world, b, [aggregator(j) for j in wanted if j not in asked], req, out)
        return
    revealing = reveal(r, i, members, sigs)
    endorsers = sorted(k for k in sigs if k not in world.byzantine) if reveal_to_all else [target]
    answered = {
        e.msg.sender
        for e in world.in_flight
        if isinstance(e.msg, ShareSum) and e.dst == aggregator(b) and (e.msg.r, e.msg.i) == slot
    } | {s.sender for s in received_sums(world, b, r, members).values()}
    _offer(world, b, [aggregator(k) for k in endorsers if k not in answered], revealing, out)


def _publish_unmaskable(world: World, b: int, r: int, held: dict[int, Contrib], out: list[Inject]) -> None:
    """CLUSTER and CERTIFY, to every correct aggregator, of each set of (r, b) with T share-sums."""
    correct = [aggregator(j) for j in correct_aggregators(world)]
    for members in _candidate_sets(world, held):
        contribs = tuple(held[c] for c in sorted(members))
        sums = received_sums(world, b, r, members)
        if len(sums.keys() | world.byzantine) >= world.params.T:
            slot = (r, b, members)
            own = Payload(_own_cluster(world, sums, b, slot, contribs))
            _offer_all(world, offers(b, correct, (Cluster, *slot), own), out)
            dsts = correct + _clients_of(world, r, b)
            _offer_all(world, offers(b, dsts, (Certify, *slot), _certify_of(world, b, own)), out)


def _endorsers_of(world: World, b: int, r: int, members: frozenset[int]) -> set[int]:
    """Correct aggregators whose ENDORSE of (r, b, S) reached the coalition or is on its way to it."""
    on_the_way = {
        e.msg.sender
        for e in world.in_flight
        if isinstance(e.msg, Endorsement)
        and e.dst == aggregator(b)
        and (e.msg.r, e.msg.i, e.msg.members) == (r, b, members)
    }
    return set(received_endorsements(world, b, r, members)) | on_the_way


def _revealers(world: World, b: int, r: int) -> set[int]:
    """Correct aggregators whose share-sum for (r, b) reached the coalition or is on its way to it."""
    on_the_way = {
        e.msg.sender
        for e in world.in_flight
        if isinstance(e.msg, ShareSum) and e.dst == aggregator(b) and (e.msg.r, e.msg.i) == (r, b)
    }
    return _senders_of_sums(world, b, r) | on_the_way


def serial_equivocation(world: World) -> list[Inject]:
    """A coordinator that equivocates one set per correct endorser, each endorser in turn (F1, Q2
    write-once): the k-th correct aggregator is to reveal the k-th set S_k of the cluster; S_k is
    endorsed by it and by the next T - 2 correct aggregators (the coalition signs its own), which
    endorse S_k before their own set if it comes later, and after revealing their own if it came
    earlier. Endorse-then-reveal stops it only because a correct aggregator endorses one set per
    (round, cluster) (write-once) and T endorsements fit one set only (Q2): an endorser that endorses
    again, or a T too small for Q2, gives it share-sums of several sets, which combine into a
    function of the members' values outside every allowed sum (P3). A set that gathers T
    share-sums is published as a CLUSTER with the coalition's CERTIFY (P2).

    The coalition keeps no memory: what it asked for already is what its inbox and the network
    show (ENDORSE and SHARE_SUM messages to it, received or on their way)."""
    out: list[Inject] = []
    correct = correct_aggregators(world)
    T = world.params.T
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            sets = _candidate_sets(world, held)[: len(correct)]
            if len(sets) < 2:
                continue
            if world.rules.reveal_quorum(world.params) == 0:
                # the protocol as first written answers UNMASK_REQ with the share-sum: F1 at once
                revealed = _revealers(world, b, r)
                for k, members in enumerate(sets):
                    if correct[k] not in revealed:
                        req = UnmaskReq(r, b, members, tuple(held[c] for c in sorted(members)))
                        _offer(world, b, [aggregator(correct[k])], req, out)
                continue
            # script[j]: the sets endorser j is asked for, in order, and where its own reveal comes
            helpers = {
                k: [correct[(k + d) % len(correct)] for d in range(1, max(T - len(world.byzantine), 1))]
                for k in range(len(sets))
            }
            revealed = _revealers(world, b, r)
            endorsed = {k: _endorsers_of(world, b, r, sets[k]) for k in range(len(sets))}
            for k_own, j in enumerate(correct):
                before = [k for k in range(len(sets)) if j in helpers[k] and k < k_own]
                after = [k for k in range(len(sets)) if j in helpers[k] and k >= k_own]
                script = [(k, "endorse") for k in before]
                if k_own < len(sets):
                    script += [(k_own, "endorse"), (k_own, "reveal")]
                script += [(k, "endorse") for k in after]
                for k, what in script:
                    members = sets[k]
                    if what == "endorse" and j not in endorsed[k]:
                        contribs = tuple(held[c] for c in sorted(members))
                        _offer(world, b, [aggregator(j)], UnmaskReq(r, b, members, contribs), out)
                        break
                    if what == "reveal" and j not in revealed:
                        sigs = coalition_endorsements(world, b, r, members)
                        if len(sigs) >= T:
                            _offer(world, b, [aggregator(j)], reveal(r, b, members, sigs), out)
                        break
            _publish_unmaskable(world, b, r, held, out)
    return _bounded(out)


def hasty_equivocation(world: World) -> list[Inject]:
    """A coordinator that asks each correct endorser to endorse a different set of one (round,
    cluster), one endorser per set, and REVEALs each set to its endorser as soon as it endorsed,
    with the endorsements it holds: fewer than T (issue 13). It is F1's serial equivocation
    without the quorum: an endorser that releases its share-sum without counting T endorsements
    gives the coalition share-sums of overlapping sets ({4}, {5}, {4, 5}), which combine into a
    function of the members' values outside every allowed sum (P3). Opt-in: the directed search of
    a change to the endorser's REVEAL check names it; the default swarm reaches short REVEALs
    through `malformed` and `arbitrary`."""
    out: list[Inject] = []
    correct = correct_aggregators(world)
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            sets = _candidate_sets(world, held)[: len(correct)]
            if len(sets) < 2:
                continue
            revealed = _revealers(world, b, r)
            # every ENDORSE it received for the other sets of (r, b): padding, which a REVEAL
            # check that reads each signature's payload does not count
            padding = tuple(
                sig for other in sets for _k, sig in sorted(received_endorsements(world, b, r, other).items())
            )
            for j, members in zip(correct, sets, strict=False):
                if j in revealed:
                    continue
                sigs = coalition_endorsements(world, b, r, members)
                if j in sigs:
                    own = reveal(r, b, members, sigs)
                    extra = tuple(s for s in padding if s not in own.sigs)
                    _offer(world, b, [aggregator(j)], replace(own, sigs=own.sigs + extra), out)
                elif j not in _endorsers_of(world, b, r, members):
                    contribs = tuple(held[c] for c in sorted(members))
                    _offer(world, b, [aggregator(j)], UnmaskReq(r, b, members, contribs), out)
    return _bounded(out)


def split_equivocation(world: World) -> list[Inject]:
    """A coordinator that splits the correct aggregators into groups of T - t_a (the correct
    endorsements one set needs besides the coalition's) and gets a different set of one (round,
    cluster) endorsed, revealed and published by each group, every endorser endorsing once. Q2
    (2 T > n_a + t_a) leaves room for one group only; a T below it gives two groups two sets
    certified (P2) and two unmaskable sums (P3, P6). Unlike `serial_equivocation`, no endorser is
    asked twice, so write-once does not stop it: it is the attack on the threshold, at any n_a
    (issue 12: found at n_a = 7 where a random equivocation drowns)."""
    out: list[Inject] = []
    correct = correct_aggregators(world)
    size = max(1, world.params.T - len(world.byzantine))
    groups = len(correct) // size
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            sets = _candidate_sets(world, held) or ([frozenset(held)] if len(held) >= world.params.m else [])
            for k, members in enumerate(sets[: max(groups, 1)]):
                contribs = tuple(held[c] for c in sorted(members))
                _get_revealed(world, b, (r, b), members, contribs, correct[k * size], out, True)
            _publish_unmaskable(world, b, r, held, out)
    return _bounded(out)


def outside_set(world: World) -> list[Inject]:
    """A coordinator that asks to unmask sets the endorse rule must refuse (S a subset of S_i^r
    with |S| >= m): fewer than m members (none at m = 1); each of its members alone, under the
    (round, cluster) slot of another round (so write-once per (r, i) does not stop it: with two
    members it learns both values, not only an allowed sum); and contributions of another
    cluster, seen in that cluster's UNMASK_REQ. Each is asked of the correct aggregators and
    revealed to every correct endorser once T endorse it (P3, P7)."""
    out: list[Inject] = []
    params = world.params
    correct = correct_aggregators(world)
    if not correct:
        return []
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            others = [x for x in range(params.R) if x != r]
            cluster = sorted(world.ctx.clusters(r)[b])
            for c in sorted(held):
                k = cluster.index(c)
                if k < len(others):
                    # member c alone, under the (round, cluster) slot of another round (one per member)
                    _get_revealed(
                        world,
                        b,
                        (others[k], b),
                        frozenset({c}),
                        (held[c],),
                        correct[k % len(correct)],
                        out,
                        True,
                    )
            # fewer than m members: at m = 1 the empty set (asked too since issue 13: a check of
            # |S| >= m is otherwise never exercised at m = 1)
            small = sorted(held)[: params.m - 1]
            members = frozenset(small)
            _get_revealed(world, b, (r, b), members, tuple(held[c] for c in small), correct[0], out, True)
        foreign = [m for m in inbox(world) if isinstance(m, UnmaskReq) and m.i not in world.byzantine]
        for req in foreign[:2]:
            # another cluster's members, passed off as the coordinator's own cluster's set
            _get_revealed(world, b, (req.r, b), req.members, req.contribs, correct[-1], out, True)
    return _bounded(out)


def self_certified(world: World) -> list[Inject]:
    """MODELs whose every cluster result only the coalition certified (Q6 asks t_a + 1 signatures,
    so at least one correct aggregator): for each round, n_a - t_a clusters with their public
    member sets and an aggregate of the coalition's choosing, signed by the coalition alone, and
    w their average, as a MODEL of round R to two clients. A client that counts fewer than t_a + 1
    signatures accepts a forged model (P4)."""
    if not world.byzantine:
        return []
    params, dom = world.params, world.domain
    b = min(world.byzantine)
    out: list[Inject] = []
    proof: list[tuple[CertifiedResult, ...]] = []
    w = dom.genesis_model()
    for r in range(params.R):
        results = []
        for i in range(params.n_a - params.t_a):
            members = world.ctx.clusters(r)[i]
            agg = Form.symbol(("adv", r * params.n_a + i))
            sigs = tuple(Sig(x, certify_payload(r, i, members, agg)) for x in sorted(world.byzantine))
            results.append(CertifiedResult(i, members, agg, sigs))
        total = dom.zero()
        for res in results:
            total = dom.add(total, res.agg)
        w = dom.apply_update(w, total, sum(len(res.members) for res in results))
        proof.append(tuple(results))
    # MODEL(R): newer than any model a client holds until the end; two clients are enough to try
    targets = [client(c) for c in range(params.n_c) if c not in world.crashed][:2]
    _offer(world, b, targets, ModelMsg(params.R, w, tuple(proof)), out)
    return out


# -- messages the rules must refuse (issue 13) ----------------------------------------------------
def malformed(world: World) -> list[Inject]:
    """Well-typed messages that the rules must refuse, or must not be fooled by, built from what
    the coalition knows (issue 13: every message the coalition can build is reachable):
      - as soon as a correct coordinator fixed a set: its own CERTIFY of the set without a member,
        to that member, and again once delivered; for each CERTIFY of a correct aggregator it
        received: its own CERTIFY of the same (round, cluster) for the set without one member, to
        that member (a client resolves only on
        t_a + 1 distinct signers of one set and result, Q6, I2); the correct CERTIFY forwarded
        to every client, of other clusters too, with its own copy, again once delivered; and that
        correct signature attached to other content, to every correct aggregator;
      - UNMASK_REQs of its own cluster that the endorse rule must refuse: a contribution of an
        earlier and one of a later round (stale), a contribution twice (duplicate: one more
        contribution than members, and as many, one member's left out), and a set
        asked again under a later round's slot (out of order across rounds), each asked of the
        correct endorsers and revealed once T endorse it (P3, P6); a correct coordinator's set
        without a member, under that coordinator's slot, asked by the coalition; a REVEAL with
        fewer than T endorsements, to each correct endorser of its clusters (F1);
      - relabelled honest messages (issue 13): its own share-sum of a correct coordinator's set,
        which verifies (A1), with one field changed (another cluster index, the set without a
        member: `relabelled`), to that coordinator; its relabelled ENDORSEs go with its answers as
        endorser (`InboxView`), where they arrive in time to be counted among the first T;
      - a CLUSTER of its own cluster with T - 1 share-sums, each of which verifies (P1);
      - a MODEL whose proof averages one certified result twice (P4), and `malformed_models`: the
        newest proof of certified results with a model that is not its average, and a proof of
        the coalition's results carrying correct CERTIFY signatures of other content (P4); the
        plan keeps those going in the fair phase (`persistent.PERSISTENT`)."""
    if not world.byzantine:
        return []
    params = world.params
    out: list[Inject] = []
    b = min(world.byzantine)
    everyone = [client(c) for c in range(params.n_c) if c not in world.crashed]
    correct = correct_aggregators(world)
    msgs = list(inbox(world))
    requests = [m for m in msgs if isinstance(m, UnmaskReq) and m.i not in world.byzantine]
    for req in requests[-2:]:
        # its own share-sum of a correct coordinator's set, relabelled (one field changed); its
        # relabelled ENDORSEs are offered with its answers as endorser (`InboxView._answer`)
        for msg in relabelled(world, b, req):
            if isinstance(msg, ShareSum):
                _offer(world, b, [aggregator(req.i)], msg, out)
        # that coordinator's UNMASK_REQ for a smaller set, under its slot, asked by the coalition: an
        # endorser must take an UNMASK_REQ from the cluster's coordinator only (endorse rule)
        smaller = req.members - {max(req.members)} if req.members else req.members
        if len(smaller) >= params.m and smaller:
            usurped = UnmaskReq(req.r, req.i, smaller, tuple(c for c in req.contribs if c.c in smaller))
            _offer(world, b, [aggregator(j) for j in correct if j != req.i], usurped, out)
    for req in requests[-4:]:
        # as soon as a set is fixed: its own CERTIFY of the set without c, to c (again once delivered)
        for c in sorted(req.members)[:2]:
            alt, v = req.members - {c}, Form.symbol(("adv", req.r, req.i))
            _offer(
                world,
                b,
                [client(c)],
                Certify(req.r, req.i, alt, v, Sig(b, certify_payload(req.r, req.i, alt, v))),
                out,
            )
    out += malformed_requests(world)
    for msg in inbox(world):  # a REVEAL short of T endorsements, to each endorser of its own clusters
        if isinstance(msg, Endorsement) and msg.i in world.byzantine and msg.sender not in world.byzantine:
            sigs = (Sig(msg.i, intent_payload(msg.r, msg.i, msg.members)), msg.sig)
            reveal = Reveal(msg.r, msg.i, msg.members, tuple(sorted(sigs, key=lambda s: s.signer)))
            _offer(world, msg.i, [aggregator(msg.sender)], reveal, out)
    if correct:
        for r, held in sorted(held_contribs(world, b).items()):
            short = _short_cluster(world, b, r, held)
            if short is not None:  # a CLUSTER with fewer than T share-sums
                _offer(world, b, [aggregator(j) for j in correct], short, out)
    # before the forged MODELs of `malformed_models`, whose number grew (issue 13): behind them the
    # proof that averages one result twice was no longer reached within 20 directed runs
    # (`proof-twice-same-cluster`); ahead of them the swarm reaches it
    results = _known_results(world)
    round0 = [res for (r, _i), res in sorted(results.items()) if r == 0]
    quorum = params.n_a - params.t_a
    if round0 and len(round0) < quorum:
        chosen = tuple((round0 * quorum)[:quorum])  # a result counted twice to reach the quorum
        total = world.domain.zero()
        for res in chosen:
            total = world.domain.add(total, res.agg)
        w = world.domain.apply_update(
            world.domain.genesis_model(), total, sum(len(r.members) for r in chosen)
        )
        _offer(world, b, everyone[:2], ModelMsg(1, w, (chosen,)), out)
    out += malformed_models(world, everyone[:3])
    certs = [m for m in msgs if isinstance(m, Certify) and m.sig.signer not in world.byzantine]
    # last, as the most numerous (MAX_OFFERS keeps the first): correct CERTIFYs, the newest (those
    # whose clients may still wait on them)
    for msg in certs[-4:]:
        key = (msg.r, msg.i, msg.members, msg.agg_digest)
        _offer(world, b, everyone, msg, out)  # forwarded to every client, of other clusters too
        _offer(world, b, everyone, Certify(*key, Sig(b, certify_payload(*key))), out)  # and its own copy
        for dropped in sorted(msg.members)[:2]:
            alt = msg.members - {dropped}
            own = Certify(
                msg.r, msg.i, alt, msg.agg_digest, Sig(b, certify_payload(msg.r, msg.i, alt, msg.agg_digest))
            )
            _offer(world, b, [client(dropped)], own, out)
            _offer(world, b, [aggregator(j) for j in correct], replace(own, sig=msg.sig), out)
    return _bounded(out)


def malformed_requests(world: World) -> list[Inject]:
    """UNMASK_REQs of the coalition's own clusters that the endorse rule must refuse (`malformed`;
    in the fair phase too, `persistent.PERSISTENT["malformed"]`), each asked of the correct
    endorsers and revealed once T endorse it (P3, P6):
      - a member's contribution of an earlier and one of a later round (stale), from the
        contributions the coalition received or saw in a correct coordinator's UNMASK_REQ;
      - a contribution twice: one more contribution than members; and as many as members, the first
        member's twice and the second's left out, or the last member's twice and the first's left
        out (the sorted client ids then fall below S's, or above);
      - the set asked again under a later round's slot (out of order across rounds)."""
    correct = correct_aggregators(world)
    if not world.byzantine or not correct:
        return []
    params = world.params
    b = min(world.byzantine)
    out: list[Inject] = []
    view = inbox_view(world)
    seen = [c for rounds in view.held.values() for held in rounds.values() for c in held.values()]
    seen += [c for m in view.requests for c in m.contribs]
    # its two newest rounds: an older round's requests were asked and answered (or refused) when
    # it was the newest, and the fair phase rebuilds these offers each time the inbox grows
    for r, held in sorted(held_contribs(world, b).items())[-2:]:
        members = sorted(held)
        cluster = world.ctx.clusters(r)[b]
        others = [m for m in seen if m.r != r and m.c in cluster]
        earlier = next((m for m in others if m.r < r), None)
        later = next((m for m in others if m.r > r), None)
        for stale, target in ((earlier, correct[0]), (later, correct[-1])):
            if stale is None:
                continue
            # a member's contribution of an earlier or a later round, under this round's set
            kept = [held[c] for c in members if c != stale.c] + [stale]
            req_contribs = tuple(sorted(kept, key=lambda c: c.c))
            slot_set = frozenset(c.c for c in req_contribs)
            _get_revealed(world, b, (r, b), slot_set, req_contribs, target, out, True)
        if members:  # one contribution twice
            dup = (held[members[0]],) + tuple(held[c] for c in members)
            _get_revealed(world, b, (r, b), frozenset(members), dup, correct[-1], out, True)
        if len(members) > 1:  # as many contributions as members, one member's twice, another's not
            for twice in (
                (held[members[0]],) + tuple(held[c] for c in members if c != members[1]),
                tuple(held[c] for c in members if c != members[0]) + (held[members[-1]],),
            ):
                # to every correct endorser, also one that endorsed S already (write-once lets the
                # same S through), and revealed once T endorse S
                req = UnmaskReq(r, b, frozenset(members), twice)
                _offer(world, b, [aggregator(j) for j in correct], req, out)
                _get_revealed(world, b, (r, b), frozenset(members), twice, correct[0], out, True)
        if r + 1 < params.R and set(members) <= world.ctx.clusters(r + 1)[b]:  # a later round's slot
            contribs = tuple(held[c] for c in members)
            _get_revealed(world, b, (r + 1, b), frozenset(members), contribs, correct[0], out, True)
    return _bounded(out)


def signed_otherwise(world: World) -> list[Inject]:
    """Messages that carry the coalition's own signature over other content, or one part twice
    (issue 13, the mutation score's gaps): the checks that compare a signature's payload with its
    message, or count distinct senders, must refuse them. Correct aggregators refuse every one;
    a check that lets one through shows (P5, or the spec raises):
      - for each set a correct coordinator fixed (its UNMASK_REQ): an ENDORSE of it whose signature
        signs the share-sum's payload, not the intent, to that coordinator. Counted among its first
        T, it makes the REVEAL fall short of T valid endorsements at the correct endorsers, which
        refuse it and get no other: the set never gets T share-sums (P5);
      - for each well-formed CLUSTER received: a CERTIFY of its result whose signature signs other
        content, one payload ordered above the right one (an ENDORSE's) and one below (the round
        before's), to every correct aggregator. Counted, it completes a certificate with t_a + 1
        signers of which only t_a are valid; a model averaged over it is refused by every client
        (proof check, P4's step 1), so the round stalls (P5);
      - and that CLUSTER with its first share-sum twice, to every correct aggregator: T + 1
        share-sums of T distinct senders, whose interpolation meets one point twice; and relabelled
        to a cluster index that does not exist (n_a, n_a + 1);
      - for each such set, its own share-sum off by its own value, signed over the intent, not the
        share-sum's payload, to that coordinator (A1 must refuse it: counted, the CLUSTER's pads
        do not cancel, P1).
    In the fair phase too (`persistent.PERSISTENT["malformed"]`): sent as soon as the coalition
    holds what they answer, they arrive before the correct ENDORSEs and CERTIFYs they race."""
    if not world.byzantine:
        return []
    b = min(world.byzantine)
    correct = [aggregator(j) for j in correct_aggregators(world)]
    out: list[Inject] = []
    view = inbox_view(world)
    # the newest only: each is offered from the step it arrives, when its race is run
    for msg in view.requests[-4:]:
        sig = Sig(b, endorsement_payload(msg.r, msg.i, msg.members))
        _offer(world, b, [aggregator(msg.i)], Endorsement(msg.r, msg.i, msg.members, b, sig), out)
        # its share-sum of that set, off by its own value and signed over the intent, not the
        # share-sum's payload: A1 refuses it on the signature before it adds anything up
        honest = own_share_sum(world, b, msg.r, msg.i, msg.contribs)
        bump = Form.symbol(("adv", -100 - msg.r))
        wrong = replace(
            honest,
            total=world.domain.add(honest.total, bump),
            endorsement=Sig(b, intent_payload(msg.r, msg.i, msg.members)),
        )
        _offer(world, b, [aggregator(msg.i)], wrong, out)
    for msg in [m for m in view.clusters[-4:] if _well_formed(m)]:
        cert = _certify(world, b, msg)
        key = (cert.r, cert.i, cert.members, cert.agg_digest)
        above = Sig(b, endorsement_payload(msg.r, msg.i, msg.members))
        below = Sig(b, certify_payload(msg.r - 1, msg.i, msg.members, cert.agg_digest))
        for sig in (above, below):
            _offer(world, b, correct, Certify(*key, sig), out)
        _offer(world, b, correct, replace(msg, sums=msg.sums + msg.sums[:1]), out)
        # and relabelled to a cluster that does not exist (n_a, n_a + 1): the set check must say so
        # before it looks the cluster up
        for i in (world.params.n_a, world.params.n_a + 1):
            _offer(world, b, correct, replace(msg, i=i), out)
    return out


def malformed_models(world: World, dsts: Sequence[Party] | None = None) -> list[Inject]:
    """MODELs a client must refuse (client step 1, P4), to `dsts` (default every client not
    crashed): the newest proof the coalition can build of certified results (`certified_proof`)
    with a model that is not its average, and a proof of the coalition's own results carrying
    correct CERTIFY signatures of other content (`signed_elsewhere`). Both need certified results,
    which a chaos phase at n_c = 12 seldom reaches: the plan keeps them going in the fair phase
    (`persistent.PERSISTENT`, each offer once). Last, an honest model one round older than the
    newest proof (that proof less its last round, down to the genesis model of round 0): its proof
    verifies, and a client that already holds the newer round must refuse it as not newer (step 1;
    P4's rollback clause); and the newest proof with a model scaled off its average the other way
    from the altered one (`_forged_models`)."""
    if not world.byzantine:
        return []
    b = min(world.byzantine)
    if dsts is None:
        dsts = [client(c) for c in range(world.params.n_c) if c not in world.crashed]
    out: list[Inject] = []
    view = inbox_view(world)
    altered, other, older, scaled, *mislabelled = view.derive(
        "malformed-models", lambda: _forged_models(world, view)
    )
    if altered is not None:
        _offer(world, b, dsts, altered, out)
    if other is not None:
        _offer(world, b, dsts[:2], other, out)
    if older is not None:
        _offer(world, b, dsts, older, out)
    if scaled is not None:
        _offer(world, b, dsts[:2], scaled, out)
    for msg in mislabelled:
        if msg is not None:
            _offer(world, b, dsts, msg, out)
    return out


def _forged_models(world: World, view: InboxView) -> tuple[ModelMsg | None, ...]:
    """`malformed_models`'s MODELs (None when the coalition cannot build one yet): the altered, the
    one with signatures of other content, the older honest one, and the scaled one (the newest
    proof with its last round's step divided by one more contribution than it averaged: a model
    off the average the other way from the altered one, so that a check comparing the two models
    in either order meets one of them). Then three whose proof verifies round by round but does
    not fit the MODEL (issue 13): the newest honest model and proof under the round after and the
    round before (a proof one round short, one round long: step 1 asks a proof of exactly r
    rounds), and a model of round 1 averaging fewer than n_a - t_a certified results of round 0."""
    proof = certified_proof(world, _known_results(world))
    altered = older = scaled = ahead = behind = short = None
    params = world.params
    if proof:
        # its own value ("adv", n) with n < 0, apart from the ("adv", step) ones (symbols of one
        # kind must compare: a form sorts its terms)
        w = _average(world, proof, Form.symbol(("adv", -1 - len(proof))))
        altered = ModelMsg(len(proof), w, proof)
        older = ModelMsg(len(proof) - 1, _average(world, proof[:-1]), proof[:-1])
        scaled = ModelMsg(len(proof), _average(world, proof, extra=1), proof)
        honest = _average(world, proof)
        ahead = ModelMsg(len(proof) + 1, honest, proof) if len(proof) < params.R else None
        behind = ModelMsg(len(proof) - 1, honest, proof) if len(proof) > 1 else None
        few = proof[0][: params.n_a - params.t_a - 1]
        short = ModelMsg(1, _average(world, (few,)), (few,)) if few else None
    sigs = signed_elsewhere(world, view.certifies)
    other = _proof_of_other_content(world, sigs) if sigs else None
    return altered, other, older, scaled, ahead, behind, short


def relabelled(world: World, b: int, req: UnmaskReq) -> list[Message]:
    """Byzantine b's own share-sum and ENDORSE of a correct coordinator's set (r, i, S), each with
    one field changed and signed again by b, so each verifies (A1, signatures) on its own: the
    cluster index i + 1 and i - 1, and the set S without its last member (the share-sum then over
    the contributions of that set). The coordinator must refuse each (it did not fix that set for
    that cluster); one counted among its T share-sums or endorsements spoils its CLUSTER or its
    REVEAL, which correct aggregators then refuse (P5)."""
    params = world.params
    r, i, members = req.r, req.i, req.members
    labels = [(x, members, req.contribs) for x in sorted({(i + 1) % params.n_a, (i - 1) % params.n_a} - {i})]
    if len(members) > 1:
        smaller = members - {max(members)}
        labels.append((i, smaller, tuple(c for c in req.contribs if c.c in smaller)))
    out: list[Message] = []
    for x, s, contribs in labels:
        total = own_share_sum(world, b, r, i, contribs).total
        out.append(ShareSum(r, x, s, b, total, Sig(b, endorsement_payload(r, x, s))))
        out.append(Endorsement(r, x, s, b, Sig(b, intent_payload(r, x, s))))
    return out


def _short_cluster(world: World, b: int, r: int, held: dict[int, Contrib]) -> Cluster | None:
    """Byzantine coordinator b's CLUSTER of every member it holds for round r with T - 1 share-sums
    (those it received and the coalition's own, each of which verifies): short of T, so the pads
    do not cancel and agg is not the sum of the members' values (P1)."""
    params = world.params
    if len(held) < params.m or params.T is None:
        return None
    members = frozenset(held)
    contribs = tuple(held[c] for c in sorted(members))
    sums = received_sums(world, b, r, members)
    sums.update(coalition_share_sums(world, r, b, contribs))
    chosen = tuple(sums[k] for k in sorted(sums)[: params.T - 1])
    return Cluster(r, b, members, contribs, chosen) if chosen else None


Proof = tuple[tuple[CertifiedResult, ...], ...]


def certified_proof(world: World, results: dict[tuple[int, int], CertifiedResult]) -> Proof:
    """The longest proof the coalition can build of the results it knows (`_known_results`), each
    with t_a + 1 distinct signers of its own content and n_a - t_a clusters a round: a proof a
    correct client accepts (PROTOCOL.md client step 1)."""
    params, dom = world.params, world.domain
    quorum = params.n_a - params.t_a
    need = params.certificate_size
    proof: list[tuple[CertifiedResult, ...]] = []
    for r in range(params.R):
        found = []
        for (kr, _i), res in sorted(results.items()):
            payload = certify_payload(kr, res.i, res.members, dom.digest(res.agg))
            if kr == r and len({s.signer for s in res.sigs if s.payload == payload}) >= need:
                found.append(res)
        if len(found) < quorum:
            break
        proof.append(tuple(found[:quorum]))
    return tuple(proof)


def _average(world: World, proof: Proof, bump: Form | None = None, extra: int = 0) -> object:
    """The model `proof` describes, from the genesis model; with `bump`, the last round's total
    plus `bump`, with `extra`, its count plus `extra` (either: a model that is not the average of
    its proof)."""
    dom = world.domain
    w = dom.genesis_model()
    for k, results in enumerate(proof):
        total = dom.zero()
        for res in results:
            total = dom.add(total, res.agg)
        count = sum(len(res.members) for res in results)
        if k == len(proof) - 1:
            if bump is not None:
                total = dom.add(total, bump)
            count += extra
        w = dom.apply_update(w, total, count)
    return w


def signed_elsewhere(world: World, msgs: Sequence[Message]) -> list[Sig]:
    """Correct aggregators' CERTIFY signatures the coalition received: per signer, its first one and
    its first one of the latest round it certified (payloads of a low and of a high round, so that a
    count of signatures that compares payloads in either order meets one of them)."""
    by_signer: dict[int, list[Sig]] = {}
    for m in msgs:
        if isinstance(m, Certify) and m.sig.signer not in world.byzantine:
            by_signer.setdefault(m.sig.signer, []).append(m.sig)
    out: list[Sig] = []
    for _signer, sigs in sorted(by_signer.items()):
        latest = max(s.payload[1] for s in sigs)
        last = next(s for s in sigs if s.payload[1] == latest)
        out += [sigs[0]] + ([last] if last != sigs[0] else [])
    return out


def _proof_of_other_content(world: World, other: list[Sig]) -> ModelMsg:
    """A MODEL of round R whose every result is the coalition's own (`self_certified`), signed by
    the coalition and carrying correct CERTIFY signatures of other content (`other`): a client must
    count only signatures of the result's own content (Q6), else it accepts a forged model (P4)."""
    params = world.params
    proof: list[tuple[CertifiedResult, ...]] = []
    for r in range(params.R):
        results = []
        for i in range(params.n_a - params.t_a):
            members = world.ctx.clusters(r)[i]
            agg = Form.symbol(("adv", r * params.n_a + i))
            own = [Sig(x, certify_payload(r, i, members, agg)) for x in sorted(world.byzantine)]
            results.append(CertifiedResult(i, members, agg, tuple(own + other)))
        proof.append(tuple(results))
    return ModelMsg(params.R, _average(world, tuple(proof)), tuple(proof))


ADVERSARIES: dict[str, Adversary] = {
    "silent": silent,
    "coordinator": coordinator,
    "equivocating": equivocating,
    "censoring": censoring,
    "late_censor": late_censor,
    "wrong_sums": wrong_sums,
    "forged": forged,
    "replay": replay,
    "arbitrary": arbitrary,
    "serial_equivocation": serial_equivocation,
    "split_equivocation": split_equivocation,
    "hasty_equivocation": hasty_equivocation,
    "outside_set": outside_set,
    "self_certified": self_certified,
    "malformed": malformed,
}


#: strategies a Setup uses only when named (not in its default swarm): the audit's focus on a rule
#: names them (late_censor: i3_carry_round), and the spec-diff audit's on a function (hasty_equivocation:
#: the endorser's REVEAL check). `malformed` was opt-in too until the default swarm took
#: it (issue 13: every message the coalition can build is reachable by the default search)
OPT_IN = frozenset({"late_censor", "hasty_equivocation"})

#: strategies for the coalition's own clusters (UNMASK_REQ, REVEAL, CLUSTER): a swarm draws one at most
COORDINATOR_STRATEGIES = frozenset(
    {
        "coordinator",
        "equivocating",
        "censoring",
        "serial_equivocation",
        "split_equivocation",
        "late_censor",
        "hasty_equivocation",
    }
)


def mixed(names: Sequence[str]) -> Adversary:
    """The union of the named adversaries' offers, taken in turn (first offer of each, then second
    of each, ...), so that a strategy of few offers is not drowned by one of many."""
    chosen = [ADVERSARIES[n] for n in names]

    def adversary(world: World) -> list[Inject]:
        offers = [adv(world) for adv in chosen]
        return [o for row in itertools.zip_longest(*offers) for o in row if o is not None]

    adversary.__name__ = "+".join(names) or "silent"
    return adversary
