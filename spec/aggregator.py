"""Aggregator j: coordinator of cluster j, endorser, certifier, and averager (PROTOCOL.md section 6).

Rules owned here:
  coordinator  fix S = every member held once m members contributed (I4); UNMASK_REQ; on T
               endorsements of S, REVEAL them; on T share-sums that verify (A1), broadcast CLUSTER
  I1, I3       accept one CONTRIB per (round, client), within s_max of its model; late ones are
               refused (the client carries them over on the certificate)
  endorse      only from the cluster's coordinator, S a subset of S_i^r with |S| >= m, write-once
               per (r, i) (Q2); the share-sum is withheld
  reveal       release the withheld share-sum only on REVEAL: T endorsements of the set it endorsed,
               so share-sums of one (r, i) are only ever released for one set (finding F1)
  certify      verify the share-sums (A1), recompute agg = sum(ys) - interpolate(sums), CERTIFY;
               relay the CLUSTER to every aggregator the first time (finding F3)
  average      with certified results of n_a - t_a distinct clusters, never wait for more (P9):
               w_{r+1} = w_r + eta * sum(agg) / sum(|S|), MODEL to every client
Correct aggregators never agree on anything: each averages the clusters it saw first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

from .checks import contribs_problem, members_problem
from .context import Context
from .domain import Model, Value, interpolate_at_zero, share_point, sum_values
from .errors import ProtocolError
from .fmap import FMap
from .messages import (
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

ResultKey = tuple[int, int, frozenset[int], Hashable]  # (r, i, S, hash(agg))
Send = tuple[Party, Message]


@dataclass(frozen=True)
class AggregatorState:
    j: int
    # coordinator of cluster j
    held: FMap[int, FMap[int, Contrib]]  # round -> client -> CONTRIB held
    fixed: FMap[int, frozenset[int]]  # round -> the set S it fixed
    share_sums: FMap[int, FMap[int, ShareSum]]  # round -> sender -> verified share-sum
    clusters_sent: frozenset[int]
    endorsements: FMap[int, FMap[int, Sig]]  # round -> endorser -> its endorsement of the fixed S
    reveals_sent: frozenset[int]
    # endorser
    endorsed: FMap[tuple[int, int], frozenset[int]]  # (r, i) -> S, write-once (Q2)
    withheld: FMap[tuple[int, int], Value]  # (r, i) -> its share-sum over S, until REVEAL (F1)
    revealed: frozenset[tuple[int, int]]
    # certifier
    certified: frozenset[ResultKey]  # results this aggregator certified itself
    results: FMap[ResultKey, Value]  # agg recomputed from CLUSTER, rounds >= model_round
    certificates: FMap[ResultKey, FMap[int, Sig]]  # CERTIFY signatures, by signer
    # averager
    model_round: int
    model: Model
    proof: tuple[tuple[CertifiedResult, ...], ...]


def initial_aggregator(ctx: Context, j: int) -> AggregatorState:
    return AggregatorState(
        j=j,
        held=FMap(),
        fixed=FMap(),
        share_sums=FMap(),
        clusters_sent=frozenset(),
        endorsements=FMap(),
        reveals_sent=frozenset(),
        endorsed=FMap(),
        withheld=FMap(),
        revealed=frozenset(),
        certified=frozenset(),
        results=FMap(),
        certificates=FMap(),
        model_round=0,
        model=ctx.domain.genesis_model(),
        proof=(),
    )


def _everyone(ctx: Context) -> list[Party]:
    return [aggregator(k) for k in range(ctx.params.n_a)]


# -- coordinator -------------------------------------------------------------------------------
def on_contrib(
    ctx: Context, st: AggregatorState, src: Party, msg: Contrib
) -> tuple[AggregatorState, list[Send]]:
    """Collect CONTRIB for cluster j; fix S once the set-fixing rule says so (I4: all it holds)."""
    params, rules = ctx.params, ctx.rules
    if src != client(msg.c):
        raise ProtocolError("signatures", "CONTRIB not sent by its client")
    if not 0 <= msg.r < params.R:
        raise ProtocolError("CONTRIB", f"round {msg.r} is outside 0..R-1")
    if msg.c not in ctx.clusters(msg.r)[st.j]:
        raise ProtocolError("assignment", f"client {msg.c} is not in S_{st.j}^{msg.r}")
    if not rules.i3_fresh_enough(msg.r, msg.r_model, params.s_max):
        raise ProtocolError("I3", f"trained on round {msg.r_model}, too stale for round {msg.r}")
    if len(msg.sealed) != params.n_a or any(s.to != k for k, s in enumerate(msg.sealed)):
        raise ProtocolError("CONTRIB", "needs one sealed share per aggregator")
    held = st.held.get(msg.r, FMap())
    if not rules.i1_coordinator_accepts(frozenset(held), msg.c):
        raise ProtocolError("I1", f"already holds a contribution of client {msg.c} for round {msg.r}")
    if msg.r in st.fixed:
        raise ProtocolError("I3", f"set of round {msg.r} already fixed; the client carries it over")
    held = held.set(msg.c, msg)
    st = replace(st, held=st.held.set(msg.r, held))
    members = rules.fix_set(params, held)
    if members is None:
        return st, []
    contribs = tuple(held[c] for c in sorted(members))
    st = replace(st, fixed=st.fixed.set(msg.r, members))
    req = UnmaskReq(msg.r, st.j, members, contribs)
    return st, [(dst, req) for dst in _everyone(ctx)]


def on_share_sum(
    ctx: Context, st: AggregatorState, src: Party, msg: ShareSum
) -> tuple[AggregatorState, list[Send]]:
    """Keep share-sums that verify (A1); once enough (T), broadcast CLUSTER."""
    if src != aggregator(msg.sender):
        raise ProtocolError("signatures", "SHARE_SUM not sent by its signer")
    if msg.i != st.j or st.fixed.get(msg.r) != msg.members:
        raise ProtocolError("coordinator", "SHARE_SUM for a set this coordinator did not fix")
    if msg.r in st.clusters_sent:
        raise ProtocolError("coordinator", f"CLUSTER of round {msg.r} already sent")
    contribs = tuple(st.held[msg.r][c] for c in sorted(msg.members))
    if not ctx.rules.share_sum_verifies(ctx, contribs, msg):
        raise ProtocolError("A1", f"share-sum of aggregator {msg.sender} does not verify")
    sums = st.share_sums.get(msg.r, FMap()).set(msg.sender, msg)
    st = replace(st, share_sums=st.share_sums.set(msg.r, sums))
    if not ctx.rules.cluster_ready(ctx.params, sums):
        return st, []
    chosen = tuple(sums[k] for k in sorted(sums))
    cluster = Cluster(msg.r, st.j, msg.members, contribs, chosen)
    st = replace(st, clusters_sent=st.clusters_sent | {msg.r})
    return st, [(dst, cluster) for dst in _everyone(ctx)]


def on_endorsement(
    ctx: Context, st: AggregatorState, src: Party, msg: Endorsement
) -> tuple[AggregatorState, list[Send]]:
    """Collect endorsements of the fixed set; with T of them, REVEAL them to every endorser so far,
    and to each later endorser on its endorsement (an endorser can only reveal what it endorsed, so
    a REVEAL that overtook its UNMASK_REQ is useless: it gets another) (F1, P5)."""
    if src != aggregator(msg.sender) or msg.sig != Sig(msg.sender, intent_payload(msg.r, msg.i, msg.members)):
        raise ProtocolError("signatures", "endorsement not signed by its sender")
    if msg.i != st.j or st.fixed.get(msg.r) != msg.members:
        raise ProtocolError("coordinator", "endorsement of a set this coordinator did not fix")
    sigs = st.endorsements.get(msg.r, FMap()).set(msg.sender, msg.sig)
    st = replace(st, endorsements=st.endorsements.set(msg.r, sigs))
    if len(sigs) < ctx.rules.reveal_quorum(ctx.params):
        return st, []
    reveal = Reveal(msg.r, st.j, msg.members, tuple(sigs[k] for k in sorted(sigs)))
    if msg.r in st.reveals_sent:
        return st, [(aggregator(msg.sender), reveal)]
    st = replace(st, reveals_sent=st.reveals_sent | {msg.r})
    return st, [(aggregator(k), reveal) for k in sorted(sigs)]


# -- endorser ----------------------------------------------------------------------------------
def share_sum_total(ctx: Context, j: int, contribs: Sequence[Contrib]) -> Value:
    """The sum of the shares sealed to aggregator j in `contribs`: what j releases for their set
    (section 5). A Byzantine aggregator computes it too, over what the coalition received."""
    return sum_values(ctx.domain, [c.sealed[j].share for c in contribs])


def on_unmask_req(
    ctx: Context, st: AggregatorState, src: Party, msg: UnmaskReq
) -> tuple[AggregatorState, list[Send]]:
    """Endorse (r, i, S) (see checks.py) and withhold the sum of this aggregator's shares over S
    until REVEAL (finding F1); with a reveal quorum of 0 (the protocol as first written) it replies
    with the share-sum at once."""
    problem = ctx.rules.endorse_problem(ctx, st.j, st.endorsed, src, msg)
    if problem:
        raise ProtocolError("Q2 write-once" if problem.startswith("Q2") else "endorse", problem)
    total = share_sum_total(ctx, st.j, msg.contribs)
    sig = Sig(st.j, endorsement_payload(msg.r, msg.i, msg.members))
    key = (msg.r, msg.i)
    st = replace(st, endorsed=st.endorsed.set(key, msg.members))
    if ctx.rules.reveal_quorum(ctx.params) == 0:
        return st, [(aggregator(msg.i), ShareSum(msg.r, msg.i, msg.members, st.j, total, sig))]
    st = replace(st, withheld=st.withheld.set(key, total))
    intent = Sig(st.j, intent_payload(msg.r, msg.i, msg.members))
    return st, [(aggregator(msg.i), Endorsement(msg.r, msg.i, msg.members, st.j, intent))]


def on_reveal(
    ctx: Context, st: AggregatorState, src: Party, msg: Reveal
) -> tuple[AggregatorState, list[Send]]:
    """Release the withheld share-sum of (r, i) only for the set this aggregator endorsed, and only
    when T aggregators endorsed it: by Q2 that set is unique, so no two sets of one (round, cluster)
    ever both get share-sums from correct aggregators (finding F1: share-sums of different sets
    combine into a linear function of the members' values outside every allowed sum)."""
    key = (msg.r, msg.i)
    if src != aggregator(msg.i):
        raise ProtocolError("reveal", f"REVEAL for cluster {msg.i} not from its coordinator")
    if st.endorsed.get(key) != msg.members or key not in st.withheld:
        raise ProtocolError("reveal", f"did not endorse this set for ({msg.r}, {msg.i})")
    if key in st.revealed:
        raise ProtocolError("reveal", f"share-sum of ({msg.r}, {msg.i}) already released")
    intent = intent_payload(msg.r, msg.i, msg.members)
    signers = {s.signer for s in msg.sigs if s.payload == intent and 0 <= s.signer < ctx.params.n_a}
    if len(signers) < ctx.rules.reveal_quorum(ctx.params):
        raise ProtocolError(
            "reveal", f"{len(signers)} endorsements, needs {ctx.rules.reveal_quorum(ctx.params)}"
        )
    sig = Sig(st.j, endorsement_payload(msg.r, msg.i, msg.members))
    reply = ShareSum(msg.r, msg.i, msg.members, st.j, st.withheld[key], sig)
    st = replace(st, revealed=st.revealed | {key})
    return st, [(aggregator(msg.i), reply)]


# -- certifier ---------------------------------------------------------------------------------
def recompute_agg(ctx: Context, msg: Cluster) -> Value:
    """agg = sum(ys) - interpolate(share-sums): the pads of S cancel (P1)."""
    domain = ctx.domain
    pads = interpolate_at_zero(domain, [(share_point(s.sender), s.total) for s in msg.sums])
    return domain.linear_combination([*((c.y, 1) for c in msg.contribs), (pads, -1)])


def on_cluster(
    ctx: Context, st: AggregatorState, src: Party, msg: Cluster
) -> tuple[AggregatorState, list[Send]]:
    """Verify the share-sums (A1), recompute agg, and CERTIFY it to every aggregator and to the
    cluster's clients. A round already averaged is still certified: others may need it (P5).

    Relay (finding F3): a CLUSTER is self-verifying (signed contributions, T endorsed share-sums
    checked by A1), so it is accepted from any aggregator, and the first time an aggregator
    certifies one it forwards it to every aggregator. A coordinator that sends CLUSTER to some
    correct aggregators only can then not leave the others without a result that a published
    model used, after clients have moved past that round."""
    params = ctx.params
    assert params.T is not None
    relay = ctx.rules.relay_cluster(params)
    if src.role != "a" or (not relay and src != aggregator(msg.i)):
        raise ProtocolError("certify", f"CLUSTER for cluster {msg.i} not from its coordinator")
    problem = members_problem(ctx, msg.r, msg.i, msg.members) or contribs_problem(
        ctx, msg.r, msg.members, msg.contribs
    )
    if problem:
        raise ProtocolError("certify", problem)
    senders = {s.sender for s in msg.sums}
    if len(senders) != len(msg.sums) or len(senders) < params.T:
        raise ProtocolError("certify", f"needs T={params.T} share-sums from distinct aggregators")
    for s in msg.sums:
        if (s.r, s.i, s.members) != (msg.r, msg.i, msg.members):
            raise ProtocolError("certify", "a share-sum is for another set")
        if not ctx.rules.share_sum_verifies(ctx, msg.contribs, s):
            raise ProtocolError("A1", f"share-sum of aggregator {s.sender} does not verify")
    agg = recompute_agg(ctx, msg)
    digest = ctx.domain.digest(agg)
    key: ResultKey = (msg.r, msg.i, msg.members, digest)
    if key in st.certified:
        raise ProtocolError("certify", f"already certified this result of ({msg.r}, {msg.i})")
    st = replace(st, certified=st.certified | {key})
    if msg.r >= st.model_round:
        st = replace(st, results=st.results.set(key, agg))
    cert = Certify(msg.r, msg.i, msg.members, digest, Sig(st.j, certify_payload(*key)))
    sends: list[Send] = [(dst, cert) for dst in _everyone(ctx)]
    sends += [(client(c), cert) for c in sorted(ctx.clusters(msg.r)[msg.i])]
    if relay:
        sends += [(dst, msg) for dst in _everyone(ctx) if dst not in (src, aggregator(st.j))]
    st, more = _advance(ctx, st)
    return st, sends + more


def on_certify(
    ctx: Context, st: AggregatorState, src: Party, msg: Certify
) -> tuple[AggregatorState, list[Send]]:
    """Collect CERTIFY signatures; t_a + 1 distinct signers certify a result (Q6)."""
    if src.role != "a" or msg.sig.signer != src.index:
        raise ProtocolError("signatures", "CERTIFY not signed by its sender")
    if msg.sig.payload != certify_payload(msg.r, msg.i, msg.members, msg.agg_digest):
        raise ProtocolError("signatures", "CERTIFY signature is for other content")
    if msg.r < st.model_round:
        raise ProtocolError("average", f"round {msg.r} already averaged")
    key: ResultKey = (msg.r, msg.i, msg.members, msg.agg_digest)
    sigs = st.certificates.get(key, FMap())
    if msg.sig.signer in sigs:
        raise ProtocolError("certify", "duplicate CERTIFY signature")
    st = replace(st, certificates=st.certificates.set(key, sigs.set(msg.sig.signer, msg.sig)))
    return _advance(ctx, st)


# -- averager ----------------------------------------------------------------------------------
def _certified_results(ctx: Context, st: AggregatorState, r: int) -> dict[int, CertifiedResult]:
    """Per cluster, the first certified result of round r whose agg this aggregator knows."""
    need = ctx.rules.certificate_size(ctx.params)
    found: dict[int, CertifiedResult] = {}
    for key, agg in st.results.items():
        kr, i, members, _ = key
        if kr != r or i in found:
            continue
        sigs = st.certificates.get(key, FMap())
        if len(sigs) >= need:
            found[i] = CertifiedResult(i, members, agg, tuple(sigs[s] for s in sorted(sigs)))
    return found


def _advance(ctx: Context, st: AggregatorState) -> tuple[AggregatorState, list[Send]]:
    """Average every round for which certified results of n_a - t_a clusters are held (P9)."""
    params, domain = ctx.params, ctx.domain
    quorum = ctx.rules.averaging_quorum(params)
    sends: list[Send] = []
    while st.model_round < params.R:
        found = _certified_results(ctx, st, st.model_round)
        if len(found) < quorum:
            break
        chosen = tuple(found[i] for i in sorted(found)[:quorum])
        total = sum_values(domain, [res.agg for res in chosen])
        w = domain.apply_update(st.model, total, sum(len(res.members) for res in chosen))
        r = st.model_round + 1
        st = replace(
            st,
            model_round=r,
            model=w,
            proof=st.proof + (chosen,),
            results=FMap({k: v for k, v in st.results.items() if k[0] >= r}),
            certificates=FMap({k: v for k, v in st.certificates.items() if k[0] >= r}),
        )
        msg = ModelMsg(r, w, st.proof)
        sends += [(client(c), msg) for c in range(params.n_c)]
    return st, sends


def aggregator_receive(
    ctx: Context, st: AggregatorState, src: Party, msg: Message
) -> tuple[AggregatorState, list[Send]]:
    """Dispatch a delivered message to the rule that handles it."""
    if isinstance(msg, Contrib):
        return on_contrib(ctx, st, src, msg)
    if isinstance(msg, UnmaskReq):
        return on_unmask_req(ctx, st, src, msg)
    if isinstance(msg, Endorsement):
        return on_endorsement(ctx, st, src, msg)
    if isinstance(msg, Reveal):
        return on_reveal(ctx, st, src, msg)
    if isinstance(msg, ShareSum):
        return on_share_sum(ctx, st, src, msg)
    if isinstance(msg, Cluster):
        return on_cluster(ctx, st, src, msg)
    if isinstance(msg, Certify):
        return on_certify(ctx, st, src, msg)
    raise ProtocolError("messages", f"an aggregator does not handle {type(msg).__name__}")
