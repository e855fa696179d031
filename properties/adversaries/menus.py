"""Tiny, fixed Byzantine menus for the exhaustive explorer (section 1: Byzantine aggregators): a
view of the adversary library (adversaries/library.py): what the coalition holds (its inbox, read
by the library's `InboxView`) and every payload it sends (share-sums, REVEAL, CLUSTER) are the
library's; a menu only chooses which moves BFS explores.

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

from asfl.properties.adversaries.library import (
    coalition_endorsements,
    correct_aggregators,
    held_contribs,
    own_cluster,
    received_endorsements,
    received_sums,
    reveal,
)
from asfl.spec.messages import Contrib, UnmaskReq, aggregator
from asfl.spec.world import Inject, World

Move = tuple[Inject, ...]
Menu = Callable[[World], list[Move]]


def silent(world: World) -> list[Move]:
    return []


def _valid_sets(held: dict[int, Contrib], m: int) -> list[frozenset[int]]:
    members = sorted(held)
    return [
        frozenset(sub) for size in range(max(m, 1), len(members) + 1) for sub in combinations(members, size)
    ]


def equivocate(world: World) -> list[Move]:
    """The equivocating coordinator's moves (module docstring): which sets, and to whom, is the
    menu's choice; what the coalition holds and sends is the library's (`held_contribs`,
    `received_endorsements`, `coalition_endorsements`, `reveal`, `own_cluster`)."""
    params = world.params
    assert params.m is not None and params.T is not None
    correct = correct_aggregators(world)
    half = (len(correct) + 1) // 2
    moves: list[Move] = []
    for b in sorted(world.byzantine):
        for r, held in sorted(held_contribs(world, b).items()):
            sets = _valid_sets(held, params.m)[:2]
            reqs = [UnmaskReq(r, b, S, tuple(held[c] for c in sorted(S))) for S in sets]
            if len(reqs) == 1:
                moves.append(tuple(Inject(b, aggregator(j), reqs[0]) for j in correct))
            elif len(reqs) == 2:
                moves.append(
                    tuple(Inject(b, aggregator(j), reqs[0 if k < half else 1]) for k, j in enumerate(correct))
                )
            for req in reqs:
                endorsers = received_endorsements(world, b, r, req.members)
                if endorsers:
                    sigs = coalition_endorsements(world, b, r, req.members)
                    if len(sigs) >= world.rules.reveal_quorum(params):
                        revealing = reveal(r, b, req.members, sigs)
                        moves.append(tuple(Inject(b, aggregator(j), revealing) for j in sorted(endorsers)))
                sums = received_sums(world, b, r, req.members)
                if len(sums.keys() | world.byzantine) >= params.T:
                    cluster = own_cluster(world, b, r, req.members, req.contribs, sums)
                    moves.append(tuple(Inject(b, aggregator(j), cluster) for j in correct))
    return moves


MENUS: dict[str, Menu] = {"silent": silent, "equivocate": equivocate}
