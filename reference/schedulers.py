"""Schedulers: each picks the next event among `enabled(world)` (ARCHITECTURE.md, drivers).

Randomness lives here, never in the spec: a scheduler owns a seeded `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from asfl.spec.world import Crash, Deliver, Event, TrainDone, World


class RandomScheduler:
    """Any order: a uniformly random enabled delivery or training completion; the clients named
    in `crash` crash at random moments (each step, with probability `crash_rate`)."""

    name = "random"

    def __init__(self, seed: int, crash: Sequence[int] = (), crash_rate: float = 0.02) -> None:
        self.rng = random.Random(seed)
        self.to_crash = list(crash)
        self.crash_rate = crash_rate

    def choose(self, world: World, events: Sequence[Event]) -> Event | None:
        crashes = [e for e in events if isinstance(e, Crash) and e.client in self.to_crash]
        if crashes and self.rng.random() < self.crash_rate:
            event = crashes[0]
            self.to_crash.remove(event.client)
            return event
        moves = [e for e in events if isinstance(e, Deliver | TrainDone)]
        if not moves:
            return crashes[0] if crashes else None
        return self.rng.choice(moves)


class FifoScheduler:
    """Fair and deterministic: the named clients crash first, then the oldest message in flight is
    delivered; when none is in flight, the lowest-numbered training client finishes."""

    name = "fifo"

    def __init__(self, seed: int = 0, crash: Sequence[int] = ()) -> None:
        self.to_crash = list(crash)

    def choose(self, world: World, events: Sequence[Event]) -> Event | None:
        for e in events:
            if isinstance(e, Crash) and e.client in self.to_crash:
                self.to_crash.remove(e.client)
                return e
        deliveries = [e for e in events if isinstance(e, Deliver)]
        if deliveries:
            return min(deliveries, key=lambda e: e.msg_id)
        trainings = [e for e in events if isinstance(e, TrainDone)]
        return min(trainings, key=lambda e: e.client) if trainings else None


SCHEDULERS = {"random": RandomScheduler, "fifo": FifoScheduler}
