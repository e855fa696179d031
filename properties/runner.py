"""Check one property by adversarial exploration; shrink a failure to a short, replayable trace.

`check_property` runs a Hypothesis search (one example = one explored run, `explore.py`) and
judges the property on each run. A failing run is shrunk by Hypothesis; a safety trace is then
cut at the first step where the property fails, a liveness trace keeps its fair phase (its last
state loops on itself when nothing was left to do). `judge_trace` re-judges a recorded trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from asfl.spec.world import World, finished
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from . import traces
from .censor import Censor, targets
from .checks import PROPERTIES, Run, Violation, completed_round
from .explore import Explored, Setup, explore_once, fifo_choice
from .monitor import Monitor, monitor_worlds
from .profiles import PROFILES, stable_draws
from .symbolic import SymbolicDomain  # noqa: F401  (registers the "symbolic" domain for traces)

LIVENESS = frozenset({"P5", "P9"})
PROPERTY_ORDER = list(PROPERTIES)
#: properties judged on the fair phase too (their trace keeps it)
NEEDS_FAIR = frozenset({"P5", "P6", "P9"})


class _Failed(Exception):
    pass


class _ShrinkBudgetSpent(BaseException):
    """Raised through Hypothesis (not an Exception, so it is not a failure) when shrinking has used
    its time budget: the smallest failing run found so far is kept."""


#: seconds of shrinking after the first failure, by default
SHRINK_BUDGET = 20.0


@dataclass
class Outcome:
    """The verdict on one property."""

    prop: str
    held: bool
    examples: int
    steps: int
    seconds: float
    violation: Violation | None = None
    trace: traces.Trace | None = None
    trace_path: Path | None = None
    seed: int | None = None
    extra: dict = field(default_factory=dict)


def setup_for(prop: str, setup: Setup) -> Setup:
    """P9 is judged with the coalition silent from the start (t_a silent aggregators)."""
    if prop == "P9":
        return replace(setup, adversaries=(), swarm=False)
    return setup


def check_property(
    prop: str,
    setup: Setup,
    profile: str = "ci",
    max_examples: int | None = None,
    seed_value: int | None = None,
    on_example: Callable[[], None] | None = None,
    shrink_budget: float = SHRINK_BUDGET,
) -> Outcome:
    """Explore `setup` and judge property `prop` on every run; shrink the first violation."""
    judge = PROPERTIES[prop]
    local = setup_for(prop, setup)
    state: dict = {"examples": 0, "steps": 0, "failure": None, "first_failure_at": None}
    base = PROFILES[profile]
    conf = settings(
        base,
        max_examples=max_examples or base.max_examples,
        verbosity=Verbosity.quiet,
        # a fixed seed per property (derived from --seed, or 0 under a derandomized profile), so the
        # nine properties explore different runs and every verdict is reproducible
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )

    @conf
    @given(st.data())
    def search(data: st.DataObject) -> None:
        first = state["first_failure_at"]
        if first is not None and time.perf_counter() - first > shrink_budget:
            raise _ShrinkBudgetSpent()
        ex = explore_once(data, local)
        state["examples"] += 1
        state["steps"] += len(ex.events)
        if on_example is not None:
            on_example()
        v = judge(ex.run)
        if v is not None:
            best = state["failure"]
            if best is None or len(ex.events) <= len(best[0].events):
                state["failure"] = (ex, v)
            if first is None:
                state["first_failure_at"] = time.perf_counter()
                state["examples_to_first_failure"] = state["examples"]
            raise _Failed(str(v))

    if seed_value is not None or base.derandomize:
        search = seed((seed_value or 0) * 1000 + PROPERTY_ORDER.index(prop))(search)
    start = time.perf_counter()
    try:
        with stable_draws():
            search()
    except (_Failed, _ShrinkBudgetSpent):
        pass
    except Exception:
        if state["failure"] is None:
            raise
    elapsed = time.perf_counter() - start
    if state["failure"] is None:
        return Outcome(prop, True, state["examples"], state["steps"], elapsed, seed=seed_value)
    ex, violation = state["failure"]
    trace, violation = counterexample(prop, local, ex, violation, budget=shrink_budget)
    extra = {
        "first_failure_seconds": state["first_failure_at"] - start,
        "examples_to_first_failure": state["examples_to_first_failure"],
    }
    return Outcome(
        prop,
        False,
        state["examples"],
        state["steps"],
        elapsed,
        violation,
        trace,
        seed=seed_value,
        extra=extra,
    )


def counterexample(
    prop: str, setup: Setup, ex: Explored, violation: Violation, budget: float = 10.0
) -> tuple[traces.Trace, Violation]:
    """The trace of a shrunk failing run, minimized further by deleting steps (`minimize.py`).
    A safety trace is cut at its first violating step; a liveness trace keeps its fair phase
    (its last state loops on itself when nothing was left to do)."""
    from .explore import replay_events
    from .minimize import minimize

    judge = PROPERTIES[prop]
    events = list(ex.events)
    run = ex.run
    cut = first_violation(prop, setup, ex.plan.byzantine, events)
    if cut is not None:
        events = events[:cut]
        worlds = replay_events(setup, ex.plan.byzantine, events)
        smaller = minimize(setup, ex.plan.byzantine, worlds, events, judge, fair=False, budget=budget)
        if smaller is not None:
            events, run, violation = smaller
            events = events[: first_violation(prop, setup, ex.plan.byzantine, events) or len(events)]
        fair_from = None
    else:
        chaos = events[: run.fair_from]
        worlds = replay_events(setup, ex.plan.byzantine, chaos)
        smaller = minimize(
            setup, ex.plan.byzantine, worlds, chaos, judge, fair=True, budget=budget, censor=ex.plan.censor
        )
        if smaller is not None:
            events, run, violation = smaller
        fair_from = run.fair_from
    loop = len(events) if fair_from is not None and run.stuck else None
    trace = traces.Trace(
        params=setup.params,
        seed=0,
        events=events,
        byzantine=ex.plan.byzantine,
        domain="symbolic",
        rules=setup.rules.name,
        status="violation",
        property=prop,
        description=str(violation),
        loop=loop,
        extra={
            "adversaries": {"#tup": list(ex.plan.adversaries)},
            "crashes": ex.plan.crashes,
            "slow_clients": {"#tup": list(ex.plan.slow)},
            "persistent_censor": ex.plan.censor,
            "chaos_steps": fair_from if fair_from is not None else len(events),
            "fair_from": fair_from if fair_from is not None else -1,
            "stuck": run.stuck,
            "bound_hit": run.bound_hit,
        },
    )
    return trace, violation


def _run_of(
    worlds: list[World], mon: Monitor, fair_from: int | None, bound_hit: bool, censor: Censor = False
) -> Run:
    final = worlds[-1]
    stuck = fair_from is not None and not finished(final) and fifo_choice(final) is None
    start = completed_round(worlds[fair_from]) if fair_from is not None else 0
    return Run(final, mon, fair_from, stuck, bound_hit, start, targets(final, censor))


def first_violation(prop: str, setup: Setup, byzantine, events) -> int | None:
    """The length of the shortest prefix of `events` on which `prop` fails as a safety property
    (judged without a fair phase), or None when it fails only as liveness."""
    from .explore import replay_events

    worlds = replay_events(setup, byzantine, events)
    mon = Monitor(worlds[0])
    judge = PROPERTIES[prop]
    for k in range(1, len(worlds)):
        mon.observe(worlds[k - 1], worlds[k])
        if judge(Run(worlds[k], mon)) is not None:
            return k
    return None


def judge_trace(trace: traces.Trace, worlds: list[World] | None = None) -> Violation | None:
    """Re-judge a recorded trace: the property it names, on the run it records."""
    worlds = worlds if worlds is not None else trace.worlds()
    mon = monitor_worlds(worlds)
    fair = trace.extra.get("fair_from", -1)
    fair_from = fair if isinstance(fair, int) and fair >= 0 else None
    run = _run_of(
        worlds,
        mon,
        fair_from,
        bool(trace.extra.get("bound_hit", False)),
        trace.extra.get("persistent_censor", False),
    )
    judge = PROPERTIES.get(trace.property)
    if judge is None:
        raise ValueError(f"trace names no known property ({trace.property!r})")
    return judge(run)


def judge_schedule(trace: traces.Trace, setup: Setup) -> Violation | None:
    """The trace's property judged on the same schedule under another protocol (`setup`): its steps
    delivered by content (`minimize.by_content`), those no longer possible skipped, then the fair
    phase run again if the trace has one. This tells a variant's new violation from an old one:
    the baseline may fail the very schedule the variant failed (finding F4)."""
    from .minimize import by_content, replay_steps

    fair = trace.extra.get("fair_from", -1)
    fair_from = fair if isinstance(fair, int) and fair >= 0 else None
    events = trace.events if fair_from is None else trace.events[:fair_from]
    steps = by_content(trace.worlds()[: len(events) + 1], events)
    censor = trace.extra.get("persistent_censor", False)
    _events, run = replay_steps(setup, trace.byzantine, steps, fair_from is not None, censor)
    return PROPERTIES[trace.property](run)


def trace_filename(outcome: Outcome, rules_name: str) -> str:
    return f"{outcome.prop}-{rules_name}.itf.json"


def find_run(
    setup: Setup, goal: Callable[[Explored], bool], max_examples: int = 50, profile: str = "ci"
) -> Explored | None:
    """The first explored run that reaches `goal` (no shrinking), or None: shows that an adversary
    does reach an attack, so a property that holds is not held by the adversary's weakness."""
    found: list[Explored] = []
    base = PROFILES[profile]
    conf = settings(
        base,
        max_examples=max_examples,
        verbosity=Verbosity.quiet,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    @conf
    @given(st.data())
    def search(data: st.DataObject) -> None:
        ex = explore_once(data, setup)
        if goal(ex):
            found.append(ex)
            raise _Failed("found")

    try:
        with stable_draws():
            search()
    except _Failed:
        pass
    return found[0] if found else None


def refused_rules(ex: Explored) -> set[str]:
    """The rules that refused an input during the run."""
    return {rule for _step, rule in ex.run.monitor.refusals}
