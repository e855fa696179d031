"""Concrete-run Byzantine aggregators for the simulator (PROTOCOL.md section 1; P4, A1).

A strategy reacts to each message delivered to a Byzantine aggregator (the coalition's inbox)
with `Inject` events. Signatures stay ideal: a Byzantine aggregator signs as itself, and may
replay only the signed parts the coalition has seen (the world refuses anything else).

  silent            never sends anything (the coalition only listens)
  wrong-share-sums  answers every UNMASK_REQ with a share-sum off by one in a coordinate, under
                    its own valid endorsement: A1 must catch it
  forged-model      rebuilds, from the CLUSTER and CERTIFY messages it sees, a valid proof of a
                    round's model, then sends every client that proof with an altered model: P4
                    must refuse it
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from asfl.spec.aggregator import recompute_agg, share_sum_total
from asfl.spec.certificates import replay_model
from asfl.spec.messages import (
    CertifiedResult,
    Certify,
    Cluster,
    ModelMsg,
    ShareSum,
    Sig,
    UnmaskReq,
    aggregator,
    client,
    endorsement_payload,
)
from asfl.spec.world import Envelope, Inject, World

from .field_domain import Vec


class Strategy:
    """Silent: the coalition listens and never sends."""

    name = "silent"

    def react(self, world: World, env: Envelope) -> list[Inject]:
        return []


class WrongShareSums(Strategy):
    name = "wrong-share-sums"

    def react(self, world: World, env: Envelope) -> list[Inject]:
        msg = env.msg
        if not isinstance(msg, UnmaskReq):
            return []
        j, domain = env.dst.index, world.domain
        total = share_sum_total(world.ctx, j, msg.contribs)  # the honest share-sum (spec), then altered
        bad = np.array(total.a)
        bad[0] = (bad[0] + 1) % domain.q
        # keep the honest tag-sums when shares carry MAC tags (mac_rules.py): the best it can do
        tags = getattr(total, "tags", None)
        wrong = Vec(bad) if tags is None else type(total)(bad, tags)
        sig = Sig(j, endorsement_payload(msg.r, msg.i, msg.members))
        return [Inject(j, aggregator(msg.i), ShareSum(msg.r, msg.i, msg.members, j, wrong, sig))]


@dataclass
class ForgedModel(Strategy):
    name = "forged-model"
    shift: float = 0.5
    aggs: dict = field(default_factory=dict)  # (r, i, S, digest) -> agg
    sigs: dict = field(default_factory=lambda: defaultdict(dict))  # same key -> signer -> Sig
    proof: list = field(default_factory=list)  # the coalition's proof, round by round

    def react(self, world: World, env: Envelope) -> list[Inject]:
        msg, ctx = env.msg, world.ctx
        if isinstance(msg, Cluster):
            agg = recompute_agg(ctx, msg)
            self.aggs[(msg.r, msg.i, msg.members, ctx.domain.digest(agg))] = agg
        elif isinstance(msg, Certify):
            self.sigs[(msg.r, msg.i, msg.members, msg.agg_digest)][msg.sig.signer] = msg.sig
        else:
            return []
        r = len(self.proof)
        if r >= world.params.R:
            return []
        need = ctx.rules.certificate_size(world.params)
        found: dict[int, CertifiedResult] = {}
        for key, agg in self.aggs.items():
            sigs = self.sigs.get(key, {})
            if key[0] == r and key[1] not in found and len(sigs) >= need:
                found[key[1]] = CertifiedResult(key[1], key[2], agg, tuple(sigs[s] for s in sorted(sigs)))
        quorum = ctx.rules.averaging_quorum(world.params)
        if len(found) < quorum:
            return []
        self.proof.append(tuple(found[i] for i in sorted(found)[:quorum]))
        proof = tuple(self.proof)
        honest, problem = replay_model(ctx, proof)
        assert problem is None and honest is not None
        forged = Vec(np.asarray(honest.a) + self.shift)
        sender = env.dst.index
        return [Inject(sender, client(c), ModelMsg(r + 1, forged, proof)) for c in range(world.params.n_c)]


STRATEGIES: dict[str, type[Strategy]] = {
    "silent": Strategy,
    "wrong-share-sums": WrongShareSums,
    "forged-model": ForgedModel,
}


def make_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown Byzantine strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]()
