"""The search: one Hypothesis exploration judges every selected property on every run.

`search(setup, properties)` runs one Hypothesis search (one example = one explored run,
`search/runs.py`) and judges each selected property on each run (`judge/suite.py`, the one judgement), so
a check of P1-P9 is one search, not nine. P9 speaks of a coalition silent from the start: when it
is selected, the search has a second pass of the same budget whose coalition never sends (such
runs are cheap, and a swarm draw of "silent" would take a fixed share of the adversarial runs),
and every property is judged on those runs too. Each property counts the runs it was judged on
and the runs that exercised it (reached the state it speaks about, `checks.exercised`).

The first run that violates a property is kept for it; after the search, each violated property
gets its own counterexample: a safety trace is cut at the first step where the property fails, a
liveness trace keeps its fair phase, and both are minimised by deleting steps (`search/minimize.py`),
bounded by work (steps replayed), never by time, so that a verdict and its trace depend on the
command alone. Hypothesis generates; it does not shrink (its shrinker would have to be told which
of several failing properties to keep, and a deletion of steps by content shrinks a schedule
further than a shrink of the choices that drew it). `judge_trace` re-judges a recorded trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from asfl.properties.adversaries.persistent import Censor, targets
from asfl.properties.judge.monitor import Monitor, monitor_worlds
from asfl.properties.judge.suite import (
    PROPERTIES,
    Run,
    Violation,
    completed_round,
    exercised,
    unmaskable_sets,
)
from asfl.properties.search.profiles import PROFILES, stable_draws
from asfl.properties.search.runs import Explored, SearchSetup, explore_once, fifo_choice
from asfl.properties.traces import itf as traces
from asfl.spec.world import World, finished
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings, target
from hypothesis import strategies as st

LIVENESS = frozenset({"P5", "P9"})
PROPERTY_ORDER = list(PROPERTIES)
#: properties judged on the fair phase too (their trace keeps it)
NEEDS_FAIR = frozenset({"P5", "P6", "P9"})

#: steps replayed, at most, to minimise one counterexample (work, not seconds: issue 12)
SHRINK_WORK = 30_000


class _Found(Exception):
    pass


class _AllViolated(BaseException):
    """Raised through Hypothesis (not an Exception, so not a failure) once every property the search
    waits for has a violation: the rest of the budget could only find more of the same."""


@dataclass
class PropertyResult:
    """The verdict on one property."""

    prop: str
    held: bool
    examples: int  # runs the property was judged on
    steps: int  # steps of the search (shared by every property of one search)
    seconds: float
    violation: Violation | None = None
    trace: traces.Trace | None = None
    trace_path: Path | None = None
    seed: int | None = None
    extra: dict = field(default_factory=dict)
    exercised: int = 0  # judged runs that reached the state the property speaks about


@dataclass
class _Search:
    """What one search gathered: per property, runs judged and exercised, the first violation."""

    props: tuple[str, ...]
    examples: int = 0
    steps: int = 0
    judged: dict[str, int] = field(default_factory=dict)
    exercised: dict[str, int] = field(default_factory=dict)
    #: property -> (its first failing run, the violation, seconds to it, runs to it, the pass's setup)
    failures: dict[str, tuple[Explored, Violation, float, int, SearchSetup]] = field(default_factory=dict)

    def observe(self, ex: Explored, started: float, setup: SearchSetup) -> None:
        self.examples += 1
        self.steps += len(ex.events)
        for prop in self.props:
            if prop == "P9" and not ex.run.silent:
                continue  # P9 speaks of a coalition silent from the start
            self.judged[prop] = self.judged.get(prop, 0) + 1
            if exercised(prop, ex.run):
                self.exercised[prop] = self.exercised.get(prop, 0) + 1
            if prop not in self.failures:
                v = PROPERTIES[prop](ex.run)
                if v is not None:
                    self.failures[prop] = (ex, v, time.perf_counter() - started, self.examples, setup)


def search_passes(setup: SearchSetup, props: Iterable[str]) -> list[SearchSetup]:
    """The passes one search explores for `props`: the adversarial swarm unless P9 is alone, and,
    when P9 is selected, the same configuration with the coalition silent (t_a silent aggregators,
    the same crashes and asynchrony). Every run has its fair phase, safety-only searches too: the
    protocol's own completion after the faults is where a broken rule shows (a CLUSTER certified
    with the wrong sum, P1), not only liveness."""
    props = set(props)
    passes = [] if props == {"P9"} else [setup]
    if "P9" in props:
        passes.append(replace(setup, adversaries=(), swarm=False))
    return passes


def search(
    setup: SearchSetup,
    props: Iterable[str] = PROPERTY_ORDER,
    profile: str = "ci",
    max_examples: int | None = None,
    seed_value: int | None = None,
    on_example: Callable[[], None] | None = None,
    shrink_work: int = SHRINK_WORK,
    until: Iterable[str] | None = None,
) -> dict[str, PropertyResult]:
    """Explore `setup` once, judging every property of `props` on every run; a counterexample,
    minimised, for each violated one. The search stops early once every property of `until`
    (default: all of `props`) is violated. Deterministic: the same arguments give the same verdicts
    and traces (the `ci` profile derandomizes; `seed_value` picks another fixed seed)."""
    props = tuple(p for p in PROPERTY_ORDER if p in set(props))
    stop_at = set(props if until is None else until)
    state = _Search(props)
    base = PROFILES[profile]
    conf = settings(
        base,
        max_examples=max_examples or base.max_examples,
        verbosity=Verbosity.quiet,
        derandomize=False,
        # generation (and target-guided generation) only: nothing is raised, so nothing is shrunk
        phases=[Phase.explicit, Phase.generate, Phase.target],
        suppress_health_check=list(HealthCheck),
    )
    started = time.perf_counter()
    for local in search_passes(setup, props):

        @conf
        @given(st.data())
        def explore(data: st.DataObject) -> None:
            ex = explore_once(data, local)  # noqa: B023 (each pass runs before the next is built)
            state.observe(ex, started, local)  # noqa: B023
            if on_example is not None:
                on_example()
            _aim(ex)
            if stop_at <= state.failures.keys():
                raise _AllViolated()

        # one fixed seed per command (derived from --seed, or 0 under a derandomized profile)
        if seed_value is not None or base.derandomize:
            explore = seed(seed_value or 0)(explore)
        try:
            with stable_draws():
                explore()
        except _AllViolated:
            break
    elapsed = time.perf_counter() - started
    outcomes: dict[str, PropertyResult] = {}
    for prop in props:
        common = dict(
            examples=state.judged.get(prop, 0),
            steps=state.steps,
            seed=seed_value,
            exercised=state.exercised.get(prop, 0),
        )
        if prop not in state.failures:
            outcomes[prop] = PropertyResult(prop, True, seconds=elapsed, **common)
            continue
        ex, violation, at, nth, pass_setup = state.failures[prop]
        shrink_start = time.perf_counter()
        trace, violation = counterexample(prop, pass_setup, ex, violation, work=shrink_work)
        extra = {
            "first_failure_seconds": at,
            "examples_to_first_failure": nth,
            "shrink_seconds": time.perf_counter() - shrink_start,
            "search_examples": state.examples,
        }
        if seed_value is not None:
            trace.seed = seed_value
        outcomes[prop] = PropertyResult(
            prop, False, seconds=elapsed, violation=violation, trace=trace, extra=extra, **common
        )
    return outcomes


def _aim(ex: Explored) -> None:
    """Hypothesis `target`: steer generation towards runs that got further into an attack, the
    number of sets the coalition can unmask and the rank of what its view reveals (P2, P3, P6)."""
    mon = ex.run.monitor
    sets = sum(len(s) for s in unmaskable_sets(ex.run).values())
    target(float(sets), label="unmaskable sets")
    target(float(len(mon.view.rows)), label="rank of the coalition's view")


def check_property(
    prop: str,
    setup: SearchSetup,
    profile: str = "ci",
    max_examples: int | None = None,
    seed_value: int | None = None,
    on_example: Callable[[], None] | None = None,
    shrink_work: int = SHRINK_WORK,
) -> PropertyResult:
    """The search for one property (`search` with that property alone)."""
    return search(setup, (prop,), profile, max_examples, seed_value, on_example, shrink_work)[prop]


def counterexample(
    prop: str, setup: SearchSetup, ex: Explored, violation: Violation, work: int = SHRINK_WORK
) -> tuple[traces.Trace, Violation]:
    """The trace of a failing run, minimized by deleting steps (`search/minimize.py`, at most `work` steps
    replayed). A safety trace is cut at its first violating step; a liveness trace keeps its fair
    phase (its last state loops on itself when nothing was left to do)."""
    from asfl.properties.search.minimize import minimize
    from asfl.properties.search.runs import replay_events

    judge = PROPERTIES[prop]
    events = list(ex.events)
    run = ex.run
    silent = ex.plan.silent
    cut = first_violation(prop, setup, ex.plan.byzantine, events)
    if cut is not None:
        events = events[:cut]
        worlds = replay_events(setup, ex.plan.byzantine, events)
        smaller = minimize(setup, ex.plan.byzantine, worlds, events, judge, fair=False, work=work)
        if smaller is not None:
            events, run, violation = smaller
            events = events[: first_violation(prop, setup, ex.plan.byzantine, events) or len(events)]
        fair_from = None
    else:
        chaos = events[: run.fair_from]
        worlds = replay_events(setup, ex.plan.byzantine, chaos)
        smaller = minimize(
            setup,
            ex.plan.byzantine,
            worlds,
            chaos,
            judge,
            fair=True,
            work=work,
            censor=ex.plan.censor,
            silent=silent,
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
            "coalition_silent": silent,
            "run_seed": ex.run_seed if ex.run_seed is not None else -1,
            "chaos_steps": fair_from if fair_from is not None else len(events),
            "fair_from": fair_from if fair_from is not None else -1,
            "stuck": run.stuck,
            "bound_hit": run.bound_hit,
        },
    )
    return trace, violation


def _run_of(
    worlds: list[World],
    mon: Monitor,
    fair_from: int | None,
    bound_hit: bool,
    censor: Censor = False,
    silent: bool = False,
) -> Run:
    final = worlds[-1]
    stuck = fair_from is not None and not finished(final) and fifo_choice(final) is None
    start = completed_round(worlds[fair_from]) if fair_from is not None else 0
    return Run(final, mon, fair_from, stuck, bound_hit, start, targets(final, censor), silent)


def first_violation(prop: str, setup: SearchSetup, byzantine, events) -> int | None:
    """The length of the shortest prefix of `events` on which `prop` fails as a safety property
    (judged without a fair phase), or None when it fails only as liveness."""
    from asfl.properties.search.runs import replay_events

    if prop in LIVENESS:
        return None  # judged only once the fair phase ends
    worlds = replay_events(setup, byzantine, events)
    mon = Monitor(worlds[0])
    judge = PROPERTIES[prop]
    for k in range(1, len(worlds)):
        mon.observe(worlds[k - 1], worlds[k])
        if judge(Run(worlds[k], mon)) is not None:
            return k
    return None


def trace_is_silent(trace: traces.Trace) -> bool:
    """Whether the coalition of a recorded run sent nothing (P9 is judged on such runs): recorded in
    `coalition_silent`, or, for traces written before that, a run with no adversary."""
    recorded = trace.extra.get("coalition_silent")
    if isinstance(recorded, bool):
        return recorded
    advs = trace.extra.get("adversaries", {})
    names = advs.get("#tup", []) if isinstance(advs, dict) else advs
    return not names


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
        trace_is_silent(trace),
    )
    judge = PROPERTIES.get(trace.property)
    if judge is None:
        raise ValueError(f"trace names no known property ({trace.property!r})")
    return judge(run)


def judge_schedule(trace: traces.Trace, setup: SearchSetup) -> Violation | None:
    """The trace's property judged on the same schedule under another protocol (`setup`): its steps
    delivered by content (`minimize.by_content`), those no longer possible skipped, then the fair
    phase run again if the trace has one. This tells a variant's new violation from an old one:
    the baseline may fail the very schedule the variant failed (finding F4)."""
    from asfl.properties.search.minimize import by_content, replay_steps

    fair = trace.extra.get("fair_from", -1)
    fair_from = fair if isinstance(fair, int) and fair >= 0 else None
    events = trace.events if fair_from is None else trace.events[:fair_from]
    steps = by_content(trace.worlds()[: len(events) + 1], events)
    censor = trace.extra.get("persistent_censor", False)
    _events, run = replay_steps(
        setup, trace.byzantine, steps, fair_from is not None, censor, trace_is_silent(trace)
    )
    return PROPERTIES[trace.property](run)


def trace_filename(outcome: PropertyResult, rules_name: str) -> str:
    return f"{outcome.prop}-{rules_name}.itf.json"


def find_run(
    setup: SearchSetup, goal: Callable[[Explored], bool], max_examples: int = 50, profile: str = "ci"
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
    def explore(data: st.DataObject) -> None:
        ex = explore_once(data, setup)
        if goal(ex):
            found.append(ex)
            raise _Found("found")

    try:
        with stable_draws():
            explore()
    except _Found:
        pass
    return found[0] if found else None


def refused_rules(ex: Explored) -> set[str]:
    """The rules that refused an input during the run."""
    return {rule for _step, rule in ex.run.monitor.refusals}
