"""Tiny, fixed Byzantine menus for the exhaustive explorer (section 1: Byzantine aggregators): a
selection over the adversary library (adversaries/library.py), whose coalition builds the payloads
(its own share-sums, `library.own_share_sum`); a menu only chooses which moves BFS explores.

A menu offers moves in a state; a move is a tuple of injections made together (the network still
delivers them in any order). The explorer lets each injection happen at most once (it remembers
what was injected), so the state space stays finite. Every injection is built from what the
coalition saw (the world refuses forged signatures anyway).

  silent       the Byzantine aggregators never send anything (P9: t_a silent aggregators never
               block)
  equivocate   a Byzantine coordinator b, once it received contributions for two valid sets
               S1, S2 (the first two in size-then-member order), sends UNMASK_REQ(S1) to the first
               half of the correct aggregators and UNMASK_REQ(S2) to the others; with a single
               valid set it sends that one to every correct aggregator. For each such S with T
               endorsements (the ENDORSEs it received plus the coalition's own), it may send
               REVEAL(S) to the correct aggregators that endorsed S (endorse, then reveal:
               finding F1); for each S with T share-sums available (the ones it received plus
               the coalition's own), it may send CLUSTER(S) to every correct aggregator. By Q2
               only one S can gather T endorsements.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

from asfl.properties.adversaries.library import correct_aggregators, own_share_sum
from asfl.spec.messages import (
    Cluster,
    Contrib,
    Endorsement,
    Reveal,
    ShareSum,
    Sig,
    UnmaskReq,
    aggregator,
    intent_payload,
)
from asfl.spec.world import Inject, World

Move = tuple[Inject, ...]
Menu = Callable[[World], list[Move]]


def silent(world: World) -> list[Move]:
    return []


def _received_contribs(world: World, b: int) -> dict[int, dict[int, Contrib]]:
    """round -> client -> CONTRIB that reached Byzantine coordinator b."""
    out: dict[int, dict[int, Contrib]] = {}
    for env in world.coalition_inbox:
        if env.dst == aggregator(b) and isinstance(env.msg, Contrib):
            out.setdefault(env.msg.r, {})[env.msg.c] = env.msg
    return out


def _valid_sets(held: dict[int, Contrib], m: int) -> list[frozenset[int]]:
    members = sorted(held)
    return [
        frozenset(sub) for size in range(max(m, 1), len(members) + 1) for sub in combinations(members, size)
    ]


def equivocate(world: World) -> list[Move]:
    params = world.params
    assert params.m is not None and params.T is not None
    correct = correct_aggregators(world)
    half = (len(correct) + 1) // 2
    received_sums: dict[tuple[int, int, frozenset[int]], dict[int, ShareSum]] = {}
    received_endorsements: dict[tuple[int, int, frozenset[int]], dict[int, Sig]] = {}
    for env in world.coalition_inbox:
        if isinstance(env.msg, ShareSum):
            s = env.msg
            received_sums.setdefault((s.r, s.i, s.members), {})[s.sender] = s
        elif isinstance(env.msg, Endorsement):
            e = env.msg
            received_endorsements.setdefault((e.r, e.i, e.members), {})[e.sender] = e.sig
    moves: list[Move] = []
    for b in sorted(world.byzantine):
        for r, held in sorted(_received_contribs(world, b).items()):
            sets = _valid_sets(held, params.m)[:2]
            reqs = [UnmaskReq(r, b, S, tuple(held[c] for c in sorted(S))) for S in sets]
            if len(reqs) == 1:
                moves.append(tuple(Inject(b, aggregator(j), reqs[0]) for j in correct))
            elif len(reqs) == 2:
                moves.append(
                    tuple(Inject(b, aggregator(j), reqs[0 if k < half else 1]) for k, j in enumerate(correct))
                )
            for req in reqs:
                endorsers = dict(received_endorsements.get((r, b, req.members), {}))
                if endorsers:
                    sigs = dict(endorsers)
                    for own in sorted(world.byzantine):
                        sigs[own] = Sig(own, intent_payload(r, b, req.members))
                    if len(sigs) >= world.rules.reveal_quorum(params):
                        reveal = Reveal(r, b, req.members, tuple(sigs[k] for k in sorted(sigs)))
                        moves.append(tuple(Inject(b, aggregator(j), reveal) for j in sorted(endorsers)))
                sums = dict(received_sums.get((r, b, req.members), {}))
                for own in sorted(world.byzantine):
                    sums[own] = own_share_sum(world, own, r, b, req.contribs)
                if len(sums) >= params.T:
                    chosen = tuple(sums[k] for k in sorted(sums)[: params.T])
                    cluster = Cluster(r, b, req.members, req.contribs, chosen)
                    moves.append(tuple(Inject(b, aggregator(j), cluster) for j in correct))
    return moves


MENUS: dict[str, Menu] = {"silent": silent, "equivocate": equivocate}
