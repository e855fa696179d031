"""The search: every selected property judged on every run, in work units, on any number of workers.

`search_report(setup, properties)` plays the runs 0, 1, 2, ... of the search's seed (run i is the
run `units.run_seed(seed, i)` draws, `search/runs.py`, `run_with_seed`) and judges each selected property on
each run (`judge/suite.py`, the one judgement), so a check of P1-P9 is one search, not nine. The runs are
cut into work units of a fixed size (`search/units.py`), run in this process, on local worker
processes or on Ray (`search/workers.py`), and merged in their order, so the verdict, the traces
and the coverage do not depend on the number of workers. P9 speaks of a coalition silent from the
start: when it is selected, the search has a second pass of the same budget whose coalition never
sends (such runs are cheap, and a swarm draw of "silent" would take a fixed share of the
adversarial runs), and every property is judged on those runs too. Each property counts the runs it
was judged on and the runs that exercised it (reached the state it speaks about,
`judge/suite.exercised`); the coverage of the runs is `judge/coverage.py`'s.

Each property's counterexample is its failing run of the lowest order (unit, then run); after the
search it is played again from its seed and minimised, on a worker too: a safety trace is cut at the
first step where the property fails, a liveness trace keeps its fair phase, and both are minimised
by deleting steps (`search/minimize.py`), bounded by work (steps replayed), never by time, so that a
verdict and its trace depend on the command alone. `judge_trace` re-judges a recorded trace.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from asfl.properties.adversaries.persistent import Censor, targets
from asfl.properties.judge.coverage import Coverage
from asfl.properties.judge.monitor import Monitor, monitor_worlds
from asfl.properties.judge.suite import PROPERTIES, Run, Violation, completed_round
from asfl.properties.search import examples
from asfl.properties.search.profiles import PROFILES, stable_draws
from asfl.properties.search.runs import (
    RAISED,
    Explored,
    Plan,
    SearchSetup,
    explore_once,
    fifo_choice,
    raised_reason,
    run_with_seed,
)
from asfl.properties.search.units import Merged, UnitResult, group, plan, run_unit
from asfl.properties.search.workers import Stats, run_ordered
from asfl.properties.traces import itf as traces
from asfl.spec.world import InvalidEvent, World, finished, step
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

LIVENESS = frozenset({"P5", "P9"})
PROPERTY_ORDER = list(PROPERTIES)
#: properties judged on the fair phase too (their trace keeps it)
NEEDS_FAIR = frozenset({"P5", "P6", "P9"})

#: steps replayed, at most, to minimise one counterexample (work, not seconds: issue 12)
SHRINK_WORK = 30_000


class _Found(Exception):
    pass


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
class SearchReport:
    """A whole search: each property's outcome, the coverage of its runs, how it ran."""

    outcomes: dict[str, PropertyResult]
    coverage: Coverage
    seed: int  # the seed of the runs (`units.run_seed`): with the run count, the search again
    runs: int  # runs made, every pass
    runs_per_pass: int  # runs by index in each pass: `--max-examples` of the same search
    steps: int
    seconds: float
    work_seconds: float  # the units' own seconds, summed
    stats: Stats
    replayed: int = 0  # runs replayed from the example database


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
    workers: int | None = 1,
    ray: str | None = None,
) -> dict[str, PropertyResult]:
    """Explore `setup`, judging every property of `props` on every run; a counterexample,
    minimised, for each violated one (`search_report`, its outcomes)."""
    return search_report(
        setup, props, profile, max_examples, seed_value, on_example, shrink_work, until, workers, ray
    ).outcomes


def search_report(
    setup: SearchSetup,
    props: Iterable[str] = PROPERTY_ORDER,
    profile: str = "ci",
    max_examples: int | None = None,
    seed_value: int | None = None,
    on_example: Callable[[], None] | None = None,
    shrink_work: int = SHRINK_WORK,
    until: Iterable[str] | None = None,
    workers: int | None = 1,
    ray: str | None = None,
    db: Path | None = None,
    time_budget: float | None = None,
) -> SearchReport:
    """Explore `setup`, judging every property of `props` on every run, in work units
    (`search/units.py`) run by `workers` local processes or on Ray (`search/workers.py`); a
    counterexample, minimised, for each violated one. The search stops early once every property
    of `until` (default: all of `props`) is violated. Deterministic: the same arguments give the same
    verdicts, traces and coverage with any number of workers, locally or on Ray (the `ci` profile
    has seed 0; `deep` draws a seed and reports it). `time_budget` (seconds) runs units until it is
    spent instead of `max_examples` runs; the report's `runs_per_pass` and `seed` repeat that search.
    `db`: failing runs saved there are replayed first, and this search's are saved there."""
    props = tuple(p for p in PROPERTY_ORDER if p in set(props))
    stop_at = tuple(props if until is None else until)
    base = PROFILES[profile]
    seed = seed_value if seed_value is not None else 0 if base.derandomize else secrets.randbits(32)
    runs = None if time_budget is not None else max_examples or base.max_examples
    passes = search_passes(setup, props)
    database = examples.open_database(db) if db is not None else None
    replayed = [examples.saved(database, s) for s in passes] if database is not None else []
    units = plan(passes, props, seed, runs, stop_at, replayed)
    merged = Merged()

    def account(result: UnitResult) -> bool:
        merged.add(result)
        if on_example is not None:
            for _ in range(result.runs):
                on_example()
        return merged.done(stop_at)

    started = time.perf_counter()
    deadline = time.monotonic() + time_budget if time_budget is not None else None
    _results, stats = run_ordered(
        run_unit, units, workers=workers, ray=ray, stop=account, deadline=deadline, group=group
    )
    elapsed = time.perf_counter() - started
    tasks = [
        Shrink(prop, passes[f.pass_index], f.run_seed, f.violation, shrink_work)
        for prop, (f, _at, _nth) in merged.failures.items()
    ]
    done = (
        run_ordered(shrink, tasks, min(workers, len(tasks)) if workers else workers, ray)[0] if tasks else []
    )
    shrunk = dict(zip([t.prop for t in tasks], done, strict=True))
    outcomes: dict[str, PropertyResult] = {}
    for prop in props:
        common = dict(
            examples=merged.judged.get(prop, 0),
            steps=merged.steps,
            seed=seed_value,
            exercised=merged.exercised.get(prop, 0),
        )
        if prop not in merged.failures:
            outcomes[prop] = PropertyResult(prop, True, seconds=elapsed, **common)
            continue
        failure, at, nth = merged.failures[prop]
        trace, violation, shrink_seconds = shrunk[prop]
        extra = {
            "first_failure_seconds": at,
            "examples_to_first_failure": nth,
            "shrink_seconds": shrink_seconds,
            "search_examples": merged.runs,
            "run_index": failure.run_index,
        }
        trace.seed = seed  # the search's seed (0 under ci: as before)
        outcomes[prop] = PropertyResult(
            prop, False, seconds=elapsed, violation=violation, trace=trace, extra=extra, **common
        )
    _same_traces(outcomes)
    if database is not None:
        for p, seeds in merged.failing_seeds.items():
            examples.save(database, passes[p], seeds)
    return SearchReport(
        outcomes,
        merged.coverage,
        seed,
        merged.runs,
        max(merged.derived_runs.values(), default=0),
        merged.steps,
        elapsed,
        merged.work_seconds,
        stats,
        replayed=sum(len(set(r)) for r in replayed),
    )


def _same_traces(outcomes: dict[str, PropertyResult]) -> None:
    """Counterexamples deduplicated by shrunk trace: a property whose trace is step for step that
    of an earlier property says so (extra["same_trace_as"]); each keeps its own file, since a trace
    names the property it is replayed against."""
    seen: dict[tuple, str] = {}
    for prop, o in outcomes.items():
        if o.trace is None:
            continue
        key = (tuple(o.trace.byzantine), tuple(repr(e) for e in o.trace.events), o.trace.loop)
        if key in seen:
            o.extra["same_trace_as"] = seen[key]
        else:
            seen[key] = prop


@dataclass(frozen=True)
class Shrink:
    """The minimisation of one property's counterexample: a task for a worker."""

    prop: str
    setup: SearchSetup
    run_seed: int
    violation: Violation
    work: int


def shrink(task: Shrink) -> tuple[traces.Trace, Violation, float]:
    """Play the failing run again from its seed and minimise it (`counterexample`)."""
    started = time.perf_counter()
    ex = run_with_seed(task.setup, task.run_seed)
    trace, violation = counterexample(task.prop, task.setup, ex, task.violation, work=task.work)
    return trace, violation, time.perf_counter() - started


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
    """The trace of a failing run, minimized by deleting steps (`minimize.py`, at most `work` steps
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
            lagging=ex.plan.lagging,
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
            **plan_meta(ex.plan),
            "run_seed": ex.run_seed if ex.run_seed is not None else -1,
            "chaos_steps": fair_from if fair_from is not None else len(events),
            "fair_from": fair_from if fair_from is not None else -1,
            "stuck": run.stuck,
            "bound_hit": run.bound_hit,
        },
    )
    return trace, violation


def plan_meta(plan: Plan) -> dict:
    """What a trace records of the run's plan (its #meta): the adversaries, crashes, slow clients,
    persistent strategy and whether the coalition was silent."""
    return {
        "adversaries": {"#tup": list(plan.adversaries)},
        "crashes": plan.crashes,
        "slow_clients": {"#tup": list(plan.slow)},
        "persistent_censor": plan.censor,
        "coalition_silent": plan.silent,
        "lagging_aggregator": plan.lagging if plan.lagging is not None else -1,
    }


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
    if trace.property == RAISED:
        return raised_again(trace, worlds[-1])
    judge = PROPERTIES.get(trace.property)
    if judge is None:
        raise ValueError(f"trace names no known property ({trace.property!r})")
    return judge(run)


def raised_again(trace: traces.Trace, last: World) -> Violation | None:
    """A RAISED trace (issue 13) is reproduced when its raising action, applied after its last
    state, raises again; on a spec where it does not (the baseline), the run goes on, and nothing
    is violated."""
    if trace.raises is None:
        raise ValueError(f"a {RAISED!r} trace must name the action that raised (#meta.raises)")
    try:
        step(last, trace.raises)
    except InvalidEvent:  # that spec cannot take the step: it does not raise on it either
        return None
    except Exception as e:  # noqa: BLE001 - the spec raised again: the verdict this trace records
        return Violation(RAISED, raised_reason(e))
    return None


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
    lagging = trace.extra.get("lagging_aggregator", -1)
    _events, run = replay_steps(
        setup,
        trace.byzantine,
        steps,
        fair_from is not None,
        censor,
        trace_is_silent(trace),
        lagging if isinstance(lagging, int) and lagging >= 0 else None,
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
