"""A discrete-event simulator that drives the spec in simulated time (ARCHITECTURE.md, driver 3).

The spec decides everything; this module only decides *when*: each message in flight is
delivered after a link latency (lognormal, drawn per link in order, so one link's draws never
depend on traffic elsewhere), and a client that starts training finishes after its own duration
(heavy-tailed speeds, `datasets.client_durations`) times a small jitter. A client that accepts a
newer model while training keeps its finish time and contributes on the newest model it holds
(the spec computes the update at `TrainDone`, from the client's current model). Crashes happen at
given times. Byzantine aggregators are driven by a `Strategy` (`adversaries.py`), whose injections
travel their own links. Every event applied is recorded (`recording.py` replays it).
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from asfl.spec.messages import ModelMsg, Party
from asfl.spec.world import Crash, Deliver, Event, Inject, TrainDone, World, finished, step

from .adversaries import Strategy


@dataclass(frozen=True)
class Timing:
    """Simulated-time model: training durations per client, link latency, jitter."""

    durations: tuple[float, ...]
    latency: float = 0.02  # median one-way latency, in the units of the durations
    latency_spread: float = 0.5
    jitter: float = 0.1
    seed: int = 0


@dataclass
class ModelEvent:
    time: float
    aggregator: int
    round: int
    model: np.ndarray


@dataclass
class DesResult:
    world: World
    finished: bool
    time: float
    events: list[Event] = field(repr=False)
    times: list[float] = field(repr=False)
    models: list[ModelEvent] = field(repr=False)  # first time some correct aggregator held model r
    accepted: dict[int, dict[int, str]]  # client -> model round -> model digest it accepted
    refused: Counter  # rule -> refusals of injected messages
    injected: int


class _Links:
    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.rngs: dict[tuple[Party, Party], np.random.Generator] = {}

    def latency(self, src: Party, dst: Party) -> float:
        rng = self.rngs.get((src, dst))
        if rng is None:
            key = [self.timing.seed, 11, ord(src.role), src.index, ord(dst.role), dst.index]
            rng = self.rngs[(src, dst)] = np.random.default_rng(np.random.SeedSequence(key))
        return float(self.timing.latency * rng.lognormal(0.0, self.timing.latency_spread))


def run(
    world: World,
    timing: Timing,
    strategy: Strategy,
    crash_at: Mapping[int, float] | None = None,
    max_events: int = 2_000_000,
    on_step: Callable[[World, float], None] | None = None,
) -> DesResult:
    """Run the world until every correct party finished round R, nothing is left to happen, or
    `max_events` events were applied."""
    links = _Links(timing)
    train_rng = {c: np.random.default_rng([timing.seed, 13, c]) for c in range(world.params.n_c)}
    heap: list[tuple[float, int, Event]] = []
    seq = itertools.count()
    training_pending: set[int] = set()
    injected_ids: set[int] = set()
    refused: Counter = Counter()
    events: list[Event] = []
    times: list[float] = []
    models: list[ModelEvent] = []
    best_round = 0
    accepted: dict[int, dict[int, str]] = {c: {} for c in range(world.params.n_c)}

    def push(t: float, e: Event) -> None:
        heapq.heappush(heap, (t, next(seq), e))

    def schedule_training(w: World, now: float, clients: range | tuple[int, ...]) -> None:
        for st in (w.clients[c] for c in clients):
            if st.training is not None and st.c not in training_pending and st.c not in w.crashed:
                training_pending.add(st.c)
                jitter = float(np.exp(timing.jitter * train_rng[st.c].standard_normal()))
                push(now + timing.durations[st.c] * jitter, TrainDone(st.c))

    for c, t in (crash_at or {}).items():
        push(t, Crash(c))
    schedule_training(world, 0.0, range(world.params.n_c))
    now = 0.0
    while heap and not finished(world) and len(events) < max_events:
        now, _, event = heapq.heappop(heap)
        if isinstance(event, TrainDone):
            training_pending.discard(event.client)
            if event.client in world.crashed or world.clients[event.client].training is None:
                continue
        if isinstance(event, Crash) and len(world.crashed) >= world.params.t_c:
            continue
        before = world
        world = step(world, event)
        events.append(event)
        times.append(now)
        last = world.last
        assert last is not None
        posted = world.in_flight[len(world.in_flight) - len(last.sent) :] if last.sent else ()
        for env in posted:
            if isinstance(event, Inject):
                injected_ids.add(env.id)
            push(now + links.latency(env.src, env.dst), Deliver(env.id))
        if isinstance(event, Deliver):
            if last.refused is not None and event.msg_id in injected_ids:
                refused[last.refused.rule] += 1
            env = next(e for e in before.in_flight if e.id == event.msg_id)
            if env.dst.role == "a" and env.dst.index in world.byzantine:
                for inj in strategy.react(world, env):
                    push(now, inj)  # sent at once; the delivery below takes the link's latency
            elif env.dst.role == "a":
                a = world.aggregators[env.dst.index]
                assert a is not None
                while a.model_round > best_round:
                    best_round += 1
                    models.append(ModelEvent(now, a.j, best_round, np.asarray(a.model.a)))
            elif last.refused is None and isinstance(env.msg, ModelMsg):
                accepted[env.dst.index][env.msg.r] = world.domain.model_digest(env.msg.w)
        if isinstance(event, TrainDone):
            schedule_training(world, now, (event.client,))
        elif isinstance(event, Deliver) and env.dst.role == "c":
            schedule_training(world, now, (env.dst.index,))
        if on_step is not None:
            on_step(world, now)
    return DesResult(world, finished(world), now, events, times, models, accepted, refused, len(injected_ids))
