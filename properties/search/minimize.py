"""Shrink a counterexample further, after Hypothesis: delete steps while the property still fails.

Hypothesis shrinks the choices that drew a schedule; deleting a step in the middle shifts every
later choice, so it rarely manages to. Here a schedule is replayed by content instead: a delivery
names its message (sender, receiver, message), not its id, so deleting a step leaves the later
ones meaningful; steps that are no longer possible are skipped. Chunks of halving size are
deleted while the property keeps failing (delta debugging); the result is re-recorded with ids.

The minimisation is bounded by work, never by time: at most `work` steps are replayed in all, so
the trace a command prints depends on the command alone, not on how loaded the machine is (issue
12: a wall-clock budget once gave another P2 trace on a busy machine in 1 run of 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asfl.properties.adversaries.persistent import Censor, targets
from asfl.properties.domains.symbolic import SymbolicDomain
from asfl.properties.judge.model import judged_step
from asfl.properties.judge.monitor import Monitor
from asfl.properties.judge.suite import Run, Violation, completed_round
from asfl.properties.search.runs import SearchSetup, run_fair_phase
from asfl.spec.messages import Message, Party
from asfl.spec.world import Deliver, Event, Inject, InvalidEvent, World


@dataclass(frozen=True)
class DeliverContent:
    src: Party
    dst: Party
    msg: Message


Step = Event | DeliverContent


def by_content(worlds: Sequence[World], events: Sequence[Event]) -> list[Step]:
    """The steps of a recorded run, deliveries named by content."""
    out: list[Step] = []
    for before, event in zip(worlds, events, strict=False):
        if isinstance(event, Deliver):
            env = next(e for e in before.in_flight if e.id == event.msg_id)
            out.append(DeliverContent(env.src, env.dst, env.msg))
        else:
            out.append(event)
    return out


def resolve(world: World, s: Step) -> Event | None:
    """The event `s` stands for in `world`: a delivery by content is the delivery of the message in
    flight with that content (None when there is none); any other step is itself."""
    if not isinstance(s, DeliverContent):
        return s
    env = next((e for e in world.in_flight if e.src == s.src and e.dst == s.dst and e.msg == s.msg), None)
    return Deliver(env.id) if env is not None else None


def replay_steps(
    setup: SearchSetup,
    byzantine: Sequence[int],
    steps: Sequence[Step],
    fair: bool,
    censor: Censor = False,
    silent: bool = False,
    lagging: int | None = None,
) -> tuple[list[Event], Run]:
    """Apply the steps that are still possible; then, if `fair`, the FIFO fair phase (with the
    persistent strategy the run's plan drew, if any)."""
    from asfl.spec import initial_world

    world = initial_world(setup.params, SymbolicDomain(setup.params), byzantine, setup.rules)
    mon = Monitor(world)
    events: list[Event] = []

    def apply(event: Event) -> bool:
        nonlocal world
        try:
            after = judged_step(world, event)
        except InvalidEvent:
            return False
        mon.observe(world, after)
        world = after
        events.append(event)
        return True

    for s in steps:
        event = resolve(world, s)
        if event is not None:
            apply(event)
    silent = silent and not any(isinstance(e, Inject) for e in events)
    if not fair:
        return events, Run(world, mon, silent=silent)
    fair_from = len(events)
    fair_start_round = completed_round(world)
    stuck, bound_hit = run_fair_phase(apply, lambda: world, setup.bound(), censor, lagging)
    censored = targets(world, censor)
    return events, Run(world, mon, fair_from, stuck, bound_hit, fair_start_round, censored, silent)


def minimize(
    setup: SearchSetup,
    byzantine: Sequence[int],
    worlds: Sequence[World],
    events: Sequence[Event],
    judge: Callable[[Run], Violation | None],
    fair: bool,
    work: int = 20_000,
    censor: Censor = False,
    silent: bool = False,
    lagging: int | None = None,
) -> tuple[list[Event], Run, Violation] | None:
    """Delete chunks of steps while `judge` still finds a violation, replaying at most `work` steps
    in all (the fair phase of a liveness run is re-derived on each replay and counts too); None if
    the run does not fail when replayed by content (then the caller keeps its trace)."""
    steps = by_content(worlds, events)
    best_events, run = replay_steps(setup, byzantine, steps, fair, censor, silent, lagging)
    spent = run.monitor.steps
    violation = judge(run)
    if violation is None:
        return None
    chunk = max(1, len(steps) // 2)
    while chunk >= 1 and spent < work:
        i = 0
        while i < len(steps) and spent < work:
            candidate = steps[:i] + steps[i + chunk :]
            cand_events, cand_run = replay_steps(setup, byzantine, candidate, fair, censor, silent, lagging)
            spent += cand_run.monitor.steps
            v = judge(cand_run)
            if v is not None:
                steps, best_events, run, violation = candidate, cand_events, cand_run, v
            else:
                i += chunk
        chunk //= 2
    return best_events, run, violation


def raised_where(reason: str) -> str:
    """What tells one raise from another (`runs.raised_reason`): the exception and the spec's frame,
    without the message, which may name values of the run."""
    return reason.split(": ", 1)[0]


def _until_raise(
    setup: SearchSetup, byzantine: Sequence[int], steps: Sequence[Step]
) -> tuple[list[Event], Event, str, int] | None:
    """Apply the steps still possible until one raises in the spec (not a refusal): the events
    before it, the raising event, its reason, and the steps applied; None if none raises."""
    from asfl.properties.search.runs import raised_reason
    from asfl.spec import initial_world

    world = initial_world(setup.params, SymbolicDomain(setup.params), byzantine, setup.rules)
    events: list[Event] = []
    for s in steps:
        event = resolve(world, s)
        if event is None:
            continue
        try:
            world = judged_step(world, event)
        except InvalidEvent:
            continue
        except Exception as e:  # noqa: BLE001 - the spec under audit raised: what is being kept
            return events, event, raised_reason(e), len(events) + 1
        events.append(event)
    return None


def minimize_raise(
    setup: SearchSetup, byzantine: Sequence[int], events: Sequence[Event], reason: str, work: int = 20_000
) -> tuple[list[Event], Event, str] | None:
    """Shrink a run on which the spec raised (`runs.StepRaised`: `events[-1]` raised, with `reason`):
    delete chunks of steps while the replay by content still raises the same exception at the same
    frame (`raised_where`), replaying at most `work` steps in all. The steps before the raise and the
    raising event, or None if the replay does not raise so (then the caller keeps its run)."""
    from asfl.properties.search.runs import replay_events

    worlds = replay_events(setup, byzantine, events[:-1])
    steps = by_content(worlds, events)
    where = raised_where(reason)
    found = _until_raise(setup, byzantine, steps)
    if found is None or raised_where(found[2]) != where:
        return None
    best, spent = found[:3], found[3]
    chunk = max(1, len(steps) // 2)
    while chunk >= 1 and spent < work:
        i = 0
        while i < len(steps) and spent < work:
            candidate = steps[:i] + steps[i + chunk :]
            again = _until_raise(setup, byzantine, candidate)
            if again is not None:
                spent += again[3]
            else:
                spent += len(candidate)
            if again is not None and raised_where(again[2]) == where:
                steps, best = candidate, again[:3]
            else:
                i += chunk
        chunk //= 2
    return best
