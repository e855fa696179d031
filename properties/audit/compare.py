"""Audit a protocol change: what a variant breaks, before it ships (issue: audit).

`audit(variant, base)` runs, on the baseline (`STANDARD`, the default formulas) and on the variant:
  1. the quorum conditions in z3, for all sizes (`quorum.check_all`) and on the configuration;
  2. the property suite P1-P9 (`runner.check_property`, the Hypothesis exploration);
  3. a small exhaustive configuration (`explorer.explore`, every interleaving);
and reports what the variant changes: conditions newly refuted, properties newly violated (with
shrunk ITF traces), properties that now hold that did not. `kill_matrix` runs the catalogue of
mutants (`properties/audit/mutants/*.py`) and says which property kills each one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from asfl.properties.audit.variant_file import Variant, load, make_variant
from asfl.properties.exhaustive.explorer import explore
from asfl.properties.judge.coverage import Coverage, coverage_rows, vacuous
from asfl.properties.search.focus import UNDIRECTED, focus_of
from asfl.properties.search.runner import PROPERTY_ORDER, PropertyResult, judge_schedule, search_report
from asfl.properties.search.runs import SearchSetup
from asfl.properties.search.workers import IN_PROCESS, Workers
from asfl.properties.theory.expressions import parse
from asfl.properties.theory.quorum import Setting, check_all
from asfl.properties.traces import itf as traces
from asfl.spec import Params, ParamsError
from asfl.spec.rules import Rules

MUTANTS_DIR = Path(__file__).with_name("mutants")
#: the small exhaustive configuration an audit explores (complete in seconds, see the manifest)
SMALL = dict(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1)

BASELINE = make_variant("asfl", "the protocol as asfl implements it (docs/protocol.md)")


def catalogue() -> list[Variant]:
    """The shipped mutants: realistic protocol mistakes, each a variant file."""
    return [load(p) for p in sorted(MUTANTS_DIR.glob("*.py"))]


@dataclass
class Side:
    """The results of one protocol (baseline or variant)."""

    quorum: dict[str, str]  # condition -> proved / refuted / unknown, for all sizes
    conditions: dict[str, bool]  # condition -> holds, on the audited configuration
    properties: dict[str, PropertyResult]
    explored: dict[str, bool]  # small exhaustive configuration: property -> holds
    explored_states: int = 0
    coverage: Coverage | None = None  # of the property searches' runs (swarm and directed)


@dataclass
class AuditResult:
    variant: Variant
    params: Params
    baseline: Side
    changed: Side
    seconds: float = 0.0
    trace_paths: dict[str, Path] = field(default_factory=dict)

    @property
    def newly_refuted(self) -> list[str]:
        return [
            c
            for c, s in self.changed.quorum.items()
            if s == "refuted" and self.baseline.quorum.get(c) != "refuted"
        ]

    @property
    def newly_violated(self) -> list[str]:
        out = [
            p for p, o in self.changed.properties.items() if not o.held and self.baseline.properties[p].held
        ]
        out += [
            f"{p} (exhaustive)"
            for p, held in self.changed.explored.items()
            if not held and self.baseline.explored.get(p, True)
        ]
        return out

    @property
    def newly_held(self) -> list[str]:
        return [
            p for p, o in self.changed.properties.items() if o.held and not self.baseline.properties[p].held
        ]

    @property
    def breaks(self) -> bool:
        return bool(self.newly_violated)

    @property
    def vacuous_rules(self) -> list[str]:
        """Rules the variant replaces that no run of its searches consulted at this size (issue 13):
        a held verdict says nothing about them here."""
        if self.changed.coverage is None:
            return []
        never = set(self.changed.coverage.rules_not_fired())
        return [name for name in self.variant.rules.replaced() if name in never]

    def to_json(self) -> dict:
        return {
            "variant": self.variant.name,
            "description": self.variant.description,
            "changes": self.variant.changes,
            "params": {
                "n_c": self.params.n_c,
                "t_c": self.params.t_c,
                "n_a": self.params.n_a,
                "t_a": self.params.t_a,
                "T": self.params.T,
                "m": self.params.m,
                "R": self.params.R,
            },
            "newly_refuted": self.newly_refuted,
            "newly_violated": self.newly_violated,
            "newly_held": self.newly_held,
            "vacuous_rules": self.vacuous_rules,
            "quorum": {"baseline": self.baseline.quorum, "variant": self.changed.quorum},
            "properties": {
                p: {
                    "baseline": "held" if self.baseline.properties[p].held else "violated",
                    "baseline_same_schedule": bool(self.baseline.properties[p].extra.get("same_schedule")),
                    "variant": "held" if o.held else "violated",
                    "reason": o.violation.reason if o.violation else "",
                    "trace": str(self.trace_paths[p]) if p in self.trace_paths else None,
                    "trace_steps": len(o.trace.events) if o.trace else None,
                    "directed": o.extra.get("directed"),
                    "exercised": o.exercised,
                    "vacuous": vacuous(o.held, o.exercised),
                }
                for p, o in self.changed.properties.items()
            },
            "exhaustive": {"baseline": self.baseline.explored, "variant": self.changed.explored},
            "coverage": self.changed.coverage.to_json() if self.changed.coverage else None,
            "seconds": round(self.seconds, 2),
        }


def _quorum(variant: Variant) -> dict[str, str]:
    setting = Setting(
        threshold=variant.threshold or parse("n_a - t_a"),
        min_set=variant.min_set or parse("k - t_c"),
    )
    return {v.name: v.status for v in check_all(setting)}


#: steps replayed, at most, to minimise each violation an audit finds (work, not seconds)
SHRINK_WORK = 10_000


def _explore(
    props: Iterable[str],
    setup: SearchSetup,
    max_examples: int | None,
    seed: int | None,
    on: Workers = IN_PROCESS,
) -> tuple[dict[str, PropertyResult], Coverage]:
    report = search_report(
        setup,
        props,
        max_examples=max_examples,
        seed_value=seed,
        shrink_work=SHRINK_WORK,
        workers=on.workers,
        ray=on.ray,
    )
    return report.outcomes, report.coverage


def _search(
    props: Iterable[str],
    params: Params,
    rules: Rules,
    max_examples: int | None,
    seed: int | None,
    on: Workers = IN_PROCESS,
) -> tuple[dict[str, PropertyResult], Coverage]:
    """One swarm search judging every property of `props`; where a property held and the rule table
    has a focus, one directed search with the focus's adversaries alone judges those properties
    (search/focus.py). A directed outcome names them in extra["directed"] and counts the swarm's
    examples, steps and seconds with its own."""
    props = list(props)
    swarm, coverage = _explore(props, SearchSetup(params, rules), max_examples, seed, on)
    focus = focus_of(rules)
    held = [p for p in props if swarm[p].held and p not in UNDIRECTED]
    if not focus or not held:
        return swarm, coverage
    directed, directed_coverage = _explore(
        held, SearchSetup(params, rules, adversaries=focus), max_examples, seed, on
    )
    out = dict(swarm)
    for p in held:
        d = directed[p]
        d.extra["directed"] = list(focus)
        if "first_failure_seconds" in d.extra:
            d.extra["first_failure_seconds"] += swarm[p].seconds
        d.examples += swarm[p].examples
        d.exercised += swarm[p].exercised
        d.steps += swarm[p].steps
        d.seconds += swarm[p].seconds
        out[p] = d
    return out, coverage.merge(directed_coverage)


def _side(
    variant: Variant,
    base: Params,
    properties: Iterable[str],
    max_examples: int | None,
    seed: int | None,
    progress: Callable[[str], None] | None,
    on: Workers = IN_PROCESS,
) -> Side:
    params = variant.apply(base)
    if progress:
        progress(f"{variant.name}: {', '.join(properties)}")
    outcomes, coverage = _search(properties, params, variant.rules, max_examples, seed, on)
    explored: dict[str, bool] = {}
    states = 0
    try:
        small = variant.apply(Params(**SMALL, allow_unsafe=True))
    except ParamsError:
        small = None  # the variant's formulas give no valid T or m on the small configuration
    if small is not None:
        exploration = explore(small, rules=variant.rules, max_states=20_000)
        explored = {name: v.holds for name, v in exploration.verdicts.items()}
        states = exploration.states
    return Side(
        quorum=_quorum(variant),
        conditions={c.name: c.holds for c in params.conditions()},
        properties=outcomes,
        explored=explored,
        explored_states=states,
        coverage=coverage,
    )


_BASELINE_CACHE: dict[tuple, Side] = {}


def baseline_side(base: Params, max_examples: int | None, seed: int | None, on: Workers = IN_PROCESS) -> Side:
    key = (base, max_examples, seed)  # the workers change nothing in a search's result
    if key not in _BASELINE_CACHE:
        _BASELINE_CACHE[key] = _side(BASELINE, base, PROPERTY_ORDER, max_examples, seed, None, on)
    return _BASELINE_CACHE[key]


_DIRECTED_CACHE: dict[tuple, dict[str, PropertyResult]] = {}


def aligned_baseline(
    baseline: Side,
    changed: Side,
    base: Params,
    max_examples: int | None,
    seed: int | None,
    on: Workers = IN_PROCESS,
) -> Side:
    """The baseline judged by the searches that judged the variant: where the variant's verdict came
    from a directed search, the baseline's comes from the same directed search, so a violation
    the directed adversaries find counts against the variant only if the baseline holds there."""
    properties = dict(baseline.properties)
    directed_props = [p for p in PROPERTY_ORDER if p not in UNDIRECTED]
    for prop, outcome in changed.properties.items():
        focus = tuple(outcome.extra.get("directed", ()))
        if not focus or outcome.held or not properties[prop].held:
            continue
        # one directed search of the baseline judges every property it can (its runs do not depend
        # on which properties it judges: only P9 adds silent runs, and P9 is never directed)
        key = (base, focus, max_examples, seed)
        if key not in _DIRECTED_CACHE:
            setup = SearchSetup(BASELINE.apply(base), BASELINE.rules, adversaries=focus)
            _DIRECTED_CACHE[key] = _explore(directed_props, setup, max_examples, seed, on)[0]
        properties[prop] = _DIRECTED_CACHE[key][prop]
    return replace(baseline, properties=properties)


def same_schedule_baseline(baseline: Side, changed: Side, base: Params) -> Side:
    """The baseline judged on the variant's own counterexamples: where the variant fails a property
    the baseline's search held, the variant's trace is replayed on the baseline (`judge_schedule`);
    if the baseline fails that schedule too, its verdict is that violation (extra["same_schedule"])
    and the property is not newly violated. The searches draw other runs for other rules, so a
    held baseline verdict only says its own search found nothing (finding F4)."""
    properties = dict(baseline.properties)
    setup = SearchSetup(BASELINE.apply(base), BASELINE.rules)
    for prop, outcome in changed.properties.items():
        if outcome.held or outcome.trace is None or not properties[prop].held:
            continue
        shared = judge_schedule(outcome.trace, setup)
        if shared is not None:
            before = properties[prop]
            properties[prop] = replace(
                before, held=False, violation=shared, extra={**before.extra, "same_schedule": True}
            )
    return replace(baseline, properties=properties)


def audit(
    variant: Variant,
    base: Params,
    max_examples: int | None = None,
    seed: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    on: Workers = IN_PROCESS,
) -> AuditResult:
    """Baseline against variant on the configuration `base`; traces of new violations go to out_dir.
    `on`: where the searches' work units run (any choice gives the same result)."""
    start = time.perf_counter()
    traces.register_rules(variant.rules)
    changed = _side(variant, base, PROPERTY_ORDER, max_examples, seed, progress, on)
    baseline = aligned_baseline(
        baseline_side(base, max_examples, seed, on), changed, base, max_examples, seed, on
    )
    baseline = same_schedule_baseline(baseline, changed, base)
    result = AuditResult(variant, variant.apply(base), baseline, changed, time.perf_counter() - start)
    if out_dir is not None:
        for prop, outcome in changed.properties.items():
            if outcome.trace is not None:
                path = out_dir / f"{variant.name}-{prop}.itf.json"
                result.trace_paths[prop] = traces.write_itf(path, outcome.trace)
    return result


@dataclass
class Kill:
    """One mutant's row of the kill matrix."""

    mutant: str
    description: str
    killed_by: list[str]  # properties violated (exploration), in order
    directed: list[str]  # those of killed_by whose violation only the directed search found (search/focus.py)
    exhaustive: list[str]  # properties violated in the small exhaustive configuration
    refuted: list[str]  # quorum conditions the mutant's formulas break
    seconds_to_kill: float | None
    trace_steps: int | None


def kill(variant: Variant, base: Params, max_examples: int | None = None, on: Workers = IN_PROCESS) -> Kill:
    """Run the property suite on a mutant: one search judges every property (and one directed
    search, where the mutant replaces a rule with a focus); a property kills it only where the
    baseline holds that property under the same search, and on the mutant's own schedule."""
    traces.register_rules(variant.rules)
    side = _side(variant, base, PROPERTY_ORDER, max_examples, None, None, on)
    baseline = aligned_baseline(
        baseline_side(base, max_examples, None, on), side, base, max_examples, None, on
    )
    baseline = same_schedule_baseline(baseline, side, base)
    # a property kills a mutant only where the baseline held it under the same budget, and does not
    # fail the mutant's own counterexample too
    side.properties = {p: o for p, o in side.properties.items() if baseline.properties[p].held}
    side.explored = {p: h for p, h in side.explored.items() if baseline.explored.get(p, True)}
    violated = [o for o in side.properties.values() if not o.held]
    first = min(violated, key=lambda o: o.extra.get("first_failure_seconds", o.seconds), default=None)
    to_kill = first.extra.get("first_failure_seconds", first.seconds) if first is not None else None
    baseline_quorum = _quorum(BASELINE)
    return Kill(
        mutant=variant.name,
        description=variant.description,
        killed_by=[p for p, o in side.properties.items() if not o.held],
        directed=[p for p, o in side.properties.items() if not o.held and "directed" in o.extra],
        exhaustive=[p for p, held in side.explored.items() if not held],
        refuted=[c for c, s in side.quorum.items() if s == "refuted" and baseline_quorum.get(c) != "refuted"],
        seconds_to_kill=to_kill if first is not None else None,
        trace_steps=len(first.trace.events) if first is not None and first.trace is not None else None,
    )


def baseline_verdict(outcome: PropertyResult) -> str:
    """held / violated, and whether on the variant's own counterexample (`same_schedule_baseline`)."""
    if outcome.held:
        return "held"
    return "violated (same schedule)" if outcome.extra.get("same_schedule") else "violated"


def verdict(outcome: PropertyResult) -> str:
    """held / VIOLATED, naming the directed search's adversaries when only it found the violation;
    held (vacuous) when no run it was judged on reached the state it speaks about."""
    if outcome.held:
        return "held (vacuous)" if vacuous(outcome.held, outcome.exercised) else "held"
    directed = outcome.extra.get("directed")
    return f"VIOLATED (directed: {', '.join(directed)})" if directed else "VIOLATED"


def markdown_report(result: AuditResult, swimlanes: dict[str, str]) -> str:
    """The audit as Markdown: what changed, each new violation with its trace's swimlane."""
    v = result.variant
    lines = [
        f"# Audit of `{v.name}`",
        "",
        f"{v.description}",
        "",
        f"Changes: {', '.join(v.changes) or 'none'}. Configuration: n_c={result.params.n_c}, "
        f"t_c={result.params.t_c}, n_a={result.params.n_a}, t_a={result.params.t_a}, T={result.params.T}, "
        f"m={result.params.m}, R={result.params.R}.",
        "",
        f"Directed search (the adversaries of the rules replaced, search/focus.py): "
        f"{', '.join(focus_of(v.rules)) or 'none'}.",
        "",
        "## Verdict",
        "",
        f"- quorum conditions newly refuted: {', '.join(result.newly_refuted) or 'none'}",
        f"- properties newly violated: {', '.join(result.newly_violated) or 'none'}",
        f"- properties that now hold and did not: {', '.join(result.newly_held) or 'none'}",
        f"- rules replaced that no run consulted here (vacuous): {', '.join(result.vacuous_rules) or 'none'}",
        "",
        "## Properties",
        "",
        "| property | baseline | variant | trace |",
        "|---|---|---|---|",
    ]
    for prop, o in result.changed.properties.items():
        b = baseline_verdict(result.baseline.properties[prop])
        trace = result.trace_paths.get(prop)
        lines.append(
            f"| {prop} | {b} | {verdict(o)} | "
            f"{f'`{trace.name}` ({len(o.trace.events)} steps)' if trace and o.trace else ''} |"
        )
    lines += [
        "",
        "## Quorum conditions (all sizes, z3)",
        "",
        "| condition | baseline | variant |",
        "|---|---|---|",
    ]
    for c, s in result.changed.quorum.items():
        lines.append(f"| {c} | {result.baseline.quorum.get(c)} | {s} |")
    lines += [
        "",
        f"## Exhaustive exploration ({SMALL})",
        "",
        "| property | baseline | variant |",
        "|---|---|---|",
    ]
    for p, held in result.changed.explored.items():
        before = "held" if result.baseline.explored.get(p, True) else "violated"
        lines.append(f"| {p} | {before} | {'held' if held else 'VIOLATED'} |")
    if result.changed.coverage is not None:
        lines += [
            "",
            "## Coverage of the variant's searches (counts are runs)",
            "",
            "| covered | reached | never |",
            "|---|---|---|",
        ]
        lines += [
            f"| {what} | {reached} | {never} |"
            for what, reached, never in coverage_rows(result.changed.coverage)
        ]
    for prop, lane in swimlanes.items():
        o = result.changed.properties[prop]
        lines += ["", f"## {prop}: {o.violation.reason if o.violation else ''}", "", "```", lane, "```"]
    return "\n".join(lines) + "\n"
