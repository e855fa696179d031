"""The persistent censor: a Byzantine coordinator that keeps censoring after the chaos stops.

Crashes and delivery chaos can stop; a Byzantine aggregator stays Byzantine. The fair phase of a
run whose plan draws `censor` keeps one behaviour of it going, the one the inclusion mechanism is
built to absorb: as coordinator it fixes, as soon as it can, every contribution it holds except
those of its target (I4 broken on purpose), and otherwise follows the protocol (it endorses,
reveals and certifies). The target of Byzantine aggregator b is the lowest-numbered client of its
round-0 cluster. A censored contribution is certified out of its set, so its release is taken
back (I2) and it is carried over to the client's next round (I3), where the reshuffled clusters
(section 3) give it another coordinator; P6's balance clause then asks that the target still
reaches Q. Without the reshuffle the target meets the same censor every round.
"""

from __future__ import annotations

from asfl.spec.messages import Contrib
from asfl.spec.world import Inject, World

from .adversaries import _coordinate


def targets(world: World) -> frozenset[int]:
    """The clients the Byzantine coordinators censor: the lowest member of each one's round-0 cluster."""
    clusters = world.ctx.clusters(0)
    return frozenset(min(clusters[b]) for b in world.byzantine if clusters[b])


def persistent_censor(world: World) -> list[Inject]:
    """Offers of the censoring coordinators, in the adversaries' priority order."""
    censored = targets(world)

    def all_but_targets(w: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
        kept = frozenset(held) - censored
        return [kept] if len(kept) >= w.params.m else []

    return _coordinate(world, all_but_targets)
