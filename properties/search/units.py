"""Work units of a search: (properties, seed, pass, range of run indices), merged in a fixed order.

A search is the runs 0, 1, 2, ... of each pass (the adversarial swarm; the silent coalition when
P9 is judged, `runner.search_passes`). Run `i` of a search with seed `s` is the run that
`run_seed(s, i)` draws (`runs.run_with_seed`): a hash of the two numbers, so any process, on any
machine, plays the same run for the same index, and no run depends on another. The runs are cut
into units of `UNIT_RUNS` consecutive indices of one pass, a size fixed by this module, never by the
number of workers: the same command has the same units whether one process runs them or Ray's 64.

The units are ordered by (unit index, pass): a search of M runs per pass is the units whose indices
start below M, and a search stopped by a time budget ends on a whole unit index, so it is the search
of `--max-examples` its run count, reproducible from that number and the seed. Failing runs saved
in an example database (`--db`) are replayed first, in one unit per pass, in the order of their
seeds.

`merge` reads the results in that order, so it does not matter which worker finished first: the
runs judged and exercised are sums, the coverage a sum and a union (`judge/coverage.py`), and each
property's counterexample is its failing run of the lowest order (unit, then position in the unit),
the only one minimised. A search that waits for violations (`until`) ends after the first unit at
which every property of `until` has one: units past it are not counted even when a worker already
ran them. A unit stops early once it alone violated every property of `until`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from asfl.properties.judge.coverage import Coverage, Probe, merged
from asfl.properties.judge.suite import PROPERTIES, Violation, exercised
from asfl.properties.search.runs import SearchSetup, run_with_seed
from asfl.properties.search.workers import run_ordered

#: runs per work unit (fixed: the units, hence the verdict, never depend on the number of workers).
#: Small enough that 2 workers share the default 40-run passes evenly, large enough that shipping a
#: unit's result costs little beside its runs (docs/check.md, "Workers").
UNIT_RUNS = 4


def run_seed(seed: int, index: int) -> int:
    """The 64-bit seed of run `index` of the search with seed `seed` (the same in every process)."""
    h = hashlib.blake2b(f"asfl run {seed} {index}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big")


@dataclass(frozen=True)
class Unit:
    """Runs `start` .. `stop - 1` of pass `pass_index` of the search with seed `seed`, each judged
    for every property of `props`; or, when `replayed` is given, those run seeds (from an example
    database) instead of derived ones. The unit stops once it violated every property of `until`."""

    setup: SearchSetup
    props: tuple[str, ...]
    seed: int
    pass_index: int
    start: int
    stop: int
    until: frozenset[str] = frozenset()
    replayed: tuple[int, ...] = ()

    @property
    def order(self) -> tuple[int, int, int]:
        """Database replays first, then by unit index, then by pass."""
        return (0, 0, self.pass_index) if self.replayed else (1, self.start, self.pass_index)

    def seeds(self) -> list[tuple[int | None, int]]:
        """(run index, run seed) of each run; a replayed run has no index."""
        if self.replayed:
            return [(None, s) for s in self.replayed]
        return [(i, run_seed(self.seed, i)) for i in range(self.start, self.stop)]


@dataclass(frozen=True)
class Failure:
    """A property's first failing run in one unit."""

    prop: str
    order: tuple[int, int, int, int]  # the unit's order, then the run's position in it
    run_index: int | None
    run_seed: int
    pass_index: int
    violation: Violation
    seconds: float  # into the unit
    runs: int  # runs of the unit up to and including it


@dataclass
class UnitResult:
    """What one unit found; everything a driver merges (small: it crosses machines)."""

    order: tuple[int, int, int]
    runs: int = 0
    steps: int = 0
    seconds: float = 0.0
    judged: dict[str, int] = field(default_factory=dict)
    exercised: dict[str, int] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    coverage: Coverage = field(default_factory=Coverage)


def run_unit(unit: Unit) -> UnitResult:
    """Play and judge the unit's runs (in any process: a unit needs nothing but itself)."""
    started = time.perf_counter()
    out = UnitResult(unit.order)
    reports = []
    for position, (index, seed) in enumerate(unit.seeds()):
        probe = Probe()
        ex = run_with_seed(unit.setup, seed, probe)
        reports.append(probe.report())
        out.runs += 1
        out.steps += len(ex.events)
        for prop in unit.props:
            if prop == "P9" and not ex.run.silent:
                continue  # P9 speaks of a coalition silent from the start
            out.judged[prop] = out.judged.get(prop, 0) + 1
            if exercised(prop, ex.run):
                out.exercised[prop] = out.exercised.get(prop, 0) + 1
            if prop not in out.failures:
                v = PROPERTIES[prop](ex.run)
                if v is not None:
                    out.failures[prop] = Failure(
                        prop,
                        (*unit.order, position),
                        index,
                        seed,
                        unit.pass_index,
                        v,
                        time.perf_counter() - started,
                        out.runs,
                    )
        if unit.until and unit.until <= out.failures.keys():
            break
    out.coverage = merged(reports)
    out.seconds = time.perf_counter() - started
    return out


def plan(
    passes: Sequence[SearchSetup],
    props: Sequence[str],
    seed: int,
    runs: int | None,
    until: Iterable[str] = (),
    replayed: Sequence[Sequence[int]] = (),
) -> Iterator[Unit]:
    """The units of a search of `runs` runs per pass (None: without end, for a time budget), in
    their order; `replayed[p]`: run seeds of pass p from the example database, played first."""
    props = tuple(props)
    until = frozenset(until)
    for p, seeds in enumerate(replayed):
        if seeds:
            yield Unit(passes[p], props, seed, p, 0, 0, until, tuple(sorted(set(seeds))))
    start = 0
    while runs is None or start < runs:
        stop = start + UNIT_RUNS if runs is None else min(start + UNIT_RUNS, runs)
        for p, setup in enumerate(passes):
            yield Unit(setup, props, seed, p, start, stop, until)
        start = stop


def group(unit: Unit) -> tuple[int, int]:
    """The units a time budget finishes together: every pass of one unit index."""
    return unit.order[:2]


@dataclass
class Merged:
    """The results of a search's units, read in their order."""

    units: int = 0
    runs: int = 0
    steps: int = 0
    work_seconds: float = 0.0  # the units' own seconds, summed (what one worker would have spent)
    judged: dict[str, int] = field(default_factory=dict)
    exercised: dict[str, int] = field(default_factory=dict)
    #: property -> its failing run of the lowest order, with the work seconds and runs before it
    failures: dict[str, tuple[Failure, float, int]] = field(default_factory=dict)
    coverage: Coverage = field(default_factory=Coverage)
    #: failing run seeds per pass (every unit's first failure of each property): the database's
    failing_seeds: dict[int, set[int]] = field(default_factory=dict)
    derived_runs: dict[int, int] = field(default_factory=dict)  # pass -> runs by index (not replayed)

    def add(self, r: UnitResult) -> None:
        """Account for the next unit in order."""
        for prop, f in r.failures.items():
            if prop not in self.failures:
                self.failures[prop] = (f, self.work_seconds + f.seconds, self.runs + f.runs)
            self.failing_seeds.setdefault(f.pass_index, set()).add(f.run_seed)
        self.units += 1
        self.runs += r.runs
        self.steps += r.steps
        self.work_seconds += r.seconds
        for prop, n in r.judged.items():
            self.judged[prop] = self.judged.get(prop, 0) + n
        for prop, n in r.exercised.items():
            self.exercised[prop] = self.exercised.get(prop, 0) + n
        self.coverage.absorb(r.coverage)
        if r.order[0] == 1:
            self.derived_runs[r.order[2]] = self.derived_runs.get(r.order[2], 0) + r.runs

    def done(self, until: Iterable[str]) -> bool:
        until = set(until)
        return bool(until) and until <= self.failures.keys()


def run_units(
    units: Iterable[Unit], workers: int | None = 1, ray: str | None = None, until: Iterable[str] = ()
) -> Merged:
    """Run `units` on `workers` local processes (1: this process) or on Ray (`ray`: "local" or a
    cluster's address) and merge them in their order (`merge`): the plain entry point for a driver
    of its own (the mutation score, a campaign). The result does not depend on `workers` nor `ray`."""
    until = tuple(until)
    merged = Merged()

    def account(result: UnitResult) -> bool:
        merged.add(result)
        return merged.done(until)

    run_ordered(run_unit, units, workers=workers, ray=ray, stop=account)
    return merged


def merge(results: Iterable[UnitResult], until: Iterable[str] = ()) -> Merged:
    """The results in their order (whatever order they come in), up to the first unit after which
    every property of `until` is violated."""
    out = Merged()
    until = tuple(until)
    for r in sorted(results, key=lambda r: r.order):
        out.add(r)
        if out.done(until):
            break
    return out
