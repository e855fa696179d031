"""A seeded simulator: the spec, the concrete field domain and a scheduler, run to the end.

It records the full event sequence (so the same seed is checked to give the same run), which
clusters were certified with which sets, when each correct client accepted each model, and the
members' values, so that every certified sum can be checked against the sum of those values.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from asfl.spec.messages import ModelMsg
from asfl.spec.params import Params
from asfl.spec.rules import STANDARD, Rules
from asfl.spec.world import Deliver, Event, World, certified_results, enabled, finished, initial_world, step

from .field_domain import FieldDomain, Vec
from .schedulers import SCHEDULERS


@dataclass
class Certified:
    """A cluster result that holds a certificate (`spec.world.certified_results`: t_a + 1 CERTIFY
    signatures by the protocol's number, the one definition the properties judge by), with the
    correct aggregators that certified it."""

    r: int
    i: int
    members: tuple[int, ...]
    agg_digest: str
    signers: tuple[int, ...]


@dataclass
class SimResult:
    params: Params
    seed: int
    scheduler: str
    byzantine: tuple[int, ...]
    crashed: tuple[int, ...]
    finished: bool
    steps: int
    events: list[Event] = field(repr=False)
    certified: list[Certified]
    accepted: dict[int, dict[int, int]]  # client -> model round -> step
    averaged: dict[int, dict[int, list[int]]]  # aggregator -> round -> clusters averaged
    values: dict[tuple[int, int], Vec] = field(repr=False)  # (round, client) -> x sent
    world: World = field(repr=False)

    def to_json(self) -> dict:
        return {
            "params": {
                "n_c": self.params.n_c,
                "t_c": self.params.t_c,
                "n_a": self.params.n_a,
                "t_a": self.params.t_a,
                "T": self.params.T,
                "m": self.params.m,
                "R": self.params.R,
                "Q": self.params.Q,
                "s_max": self.params.s_max,
            },
            "seed": self.seed,
            "scheduler": self.scheduler,
            "byzantine": list(self.byzantine),
            "crashed": list(self.crashed),
            "finished": self.finished,
            "steps": self.steps,
            "rounds": [
                {
                    "round": r,
                    "certified": [
                        {"cluster": c.i, "set": list(c.members), "signers": list(c.signers)}
                        for c in self.certified
                        if c.r == r
                    ],
                    "averaged": {str(a): rs.get(r, []) for a, rs in self.averaged.items()},
                    "accepted": {
                        str(c): steps[r + 1] for c, steps in self.accepted.items() if r + 1 in steps
                    },
                }
                for r in range(self.params.R)
            ],
        }


def default_max_steps(params: Params) -> int:
    """Enough for every round: each contribution costs O(n_a) messages and each certificate
    O(n_a + k); generous so that only a real stall hits it."""
    per_round = params.n_c * (4 * params.n_a + 4) + params.n_a * (params.n_a + params.n_c) * 4
    return 20 * per_round * params.R + 1000


def simulate(
    params: Params,
    seed: int,
    scheduler: str = "random",
    max_steps: int | None = None,
    byzantine: tuple[int, ...] | None = None,
    crash: tuple[int, ...] | None = None,
    rules: Rules = STANDARD,
) -> SimResult:
    """Run until every correct party finished round R or `max_steps` events were applied.

    By default the seed picks t_a silent Byzantine aggregators and t_c clients that crash."""
    rng = random.Random(seed)
    if byzantine is None:
        byzantine = tuple(sorted(rng.sample(range(params.n_a), params.t_a)))
    if crash is None:
        crash = tuple(sorted(rng.sample(range(params.n_c), params.t_c)))
    sched = SCHEDULERS[scheduler](seed, crash=crash)
    world = initial_world(params, FieldDomain(params, seed), byzantine, rules)
    limit = max_steps if max_steps is not None else default_max_steps(params)
    events: list[Event] = []
    accepted: dict[int, dict[int, int]] = defaultdict(dict)
    values: dict[tuple[int, int], Vec] = {}
    while not finished(world) and world.steps < limit:
        event = sched.choose(world, enabled(world))
        if event is None:
            break
        before = world
        world = step(world, event)
        events.append(event)
        _observe(before, world, event, accepted, values)
    certified = [
        Certified(r, i, tuple(sorted(s)), str(d), tuple(sorted(sig)))
        for (r, i, s, d), sig in certified_results(world).items()
    ]
    certified.sort(key=lambda c: (c.r, c.i, c.members, c.agg_digest))
    averaged = {
        a.j: {r: [res.i for res in results] for r, results in enumerate(a.proof)}
        for a in world.aggregators
        if a is not None
    }
    return SimResult(
        params,
        seed,
        scheduler,
        tuple(byzantine),
        tuple(sorted(world.crashed)),
        finished(world),
        world.steps,
        events,
        certified,
        dict(accepted),
        averaged,
        values,
        world,
    )


def _observe(before: World, after: World, event: Event, accepted, values) -> None:
    assert after.last is not None
    if isinstance(event, Deliver) and after.last.refused is None:
        env = next(e for e in before.in_flight if e.id == event.msg_id)
        if env.dst.role == "c" and isinstance(env.msg, ModelMsg):
            accepted[env.dst.index][env.msg.r] = after.steps
    for new, old in zip(after.clients, before.clients, strict=True):
        if new.outstanding is not old.outstanding:
            for r, pending in new.outstanding.items():
                values[(r, new.c)] = pending.x
