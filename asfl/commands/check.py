"""`asfl check`: explore the protocol adversarially and judge P1-P9 (PROTOCOL.md section 7).

One search judges every selected property on every run (`properties/search/runner.py`). One row per
property: held or violated, the runs it was judged on and the runs that exercised it, and the
counterexample trace when violated. Exit 0 when every property held, 1 when one was violated,
2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import UsageError, finished
from ..limits import MAX_CHAOS, MAX_EXAMPLES, bounded
from ..safe_io import output_dir
from ..spec_overlay import command_prefix
from .common import add_config_options, balance_judged, params_from
from .scale import add_scale_options, scale_from

#: the default configuration of `asfl check`: n_c=12, t_c=1, n_a=4, t_a=1, R=4 (T=3, m=2, Q=1)
DEFAULT_CLIENTS = 12


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="explore adversarially and check the properties P1-P9")
    # n_c=12: clusters of 3 and m = 2, so the `|S| >= m` checks and the races for a set are
    # exercised (at n_c=8, m = 1 and they are vacuous; issue 18)
    add_config_options(p, n_c=DEFAULT_CLIENTS)
    p.add_argument(
        "--max-examples", type=int, default=None, help="runs of the search (default: the profile's)"
    )
    p.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: derandomized)")
    p.add_argument(
        "--profile",
        choices=["ci", "deep"],
        default=None,
        help="Hypothesis profile (default ci, or $ASFL_PROFILE)",
    )
    p.add_argument(
        "--properties", default="P1,P2,P3,P4,P5,P6,P7,P8,P9", help="comma-separated subset (default all)"
    )
    p.add_argument("--rules", default="asfl", help="rule table: asfl (the protocol) or a registered variant")
    p.add_argument(
        "--max-chaos", type=int, default=None, help="chaos steps per run, at most (default 25 per client)"
    )
    p.add_argument("--out", default="traces", help="directory for counterexample traces (default ./traces)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_scale_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from asfl.properties.judge.coverage import vacuous
    from asfl.properties.judge.suite import PROPERTIES, TITLES
    from asfl.properties.search.runner import search_report, trace_filename
    from asfl.properties.search.runs import SearchSetup
    from asfl.properties.traces.itf import rule_tables, write_itf

    params = params_from(args, symbolic=True)
    wanted = [p.strip().upper() for p in args.properties.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PROPERTIES]
    if unknown or not wanted:
        raise UsageError(f"unknown properties {unknown}; choose among {', '.join(PROPERTIES)}")
    balance_judged(params, wanted, args.allow_unsafe)
    tables = rule_tables()
    if args.rules not in tables:
        raise UsageError(f"unknown rule table {args.rules!r}; known: {', '.join(sorted(tables))}")
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.max_chaos is not None and args.max_chaos < 0:
        raise UsageError("--max-chaos must be at least 0")
    bounded("--max-examples", args.max_examples, MAX_EXAMPLES)
    bounded("--max-chaos", args.max_chaos, MAX_CHAOS)
    profile = args.profile or os.environ.get("ASFL_PROFILE", "ci")
    if profile not in ("ci", "deep"):
        raise UsageError(f"unknown profile {profile!r} (ci or deep)")
    if args.time_budget is not None and args.max_examples is not None:
        raise UsageError("give --max-examples or --time-budget, not both")
    scale = scale_from(args)
    setup = SearchSetup(params, tables[args.rules], max_chaos=args.max_chaos)
    out_dir = output_dir(args.out, "--out")  # before the search: a bad --out must not cost it

    progress = None
    if not args.json and not args.no_progress and sys.stderr.isatty():
        from rich.progress import Progress

        progress = Progress(transient=True)
        progress.start()
    try:
        task = None
        if progress is not None:
            task = progress.add_task(f"{','.join(wanted)}: runs", total=args.max_examples or None)

        def tick() -> None:
            if progress is not None and task is not None:
                progress.advance(task)

        report = search_report(
            setup,
            wanted,
            profile,
            args.max_examples,
            args.seed,
            on_example=tick,
            workers=scale.workers,
            ray=scale.ray,
            db=scale.db,
            time_budget=scale.time_budget,
        )
    finally:
        if progress is not None:
            progress.stop()
    found = report.outcomes
    outcomes = [found[prop] for prop in wanted]
    for outcome in outcomes:
        if outcome.trace is not None:
            # the search again: its seed and run count (run_seed records the run itself)
            outcome.trace.extra["search_seed"] = report.seed
            outcome.trace.extra["search_runs_per_pass"] = report.runs_per_pass
            outcome.trace.extra["profile"] = profile
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                outcome.trace_path = write_itf(
                    out_dir / trace_filename(outcome, setup.rules.name), outcome.trace
                )
            except OSError as e:
                raise UsageError(f"cannot write the trace to {out_dir}: {e.strerror or e}") from e
        finished(f"{outcome.prop} {'held' if outcome.held else 'VIOLATED'}")

    failed = [o for o in outcomes if not o.held]
    if args.json:
        print(
            json.dumps(
                {
                    "params": {
                        "n_c": params.n_c,
                        "t_c": params.t_c,
                        "n_a": params.n_a,
                        "t_a": params.t_a,
                        "T": params.T,
                        "m": params.m,
                        "R": params.R,
                        "Q": params.Q,
                    },
                    "rules": setup.rules.name,
                    "profile": profile,
                    "seed": args.seed,
                    "run_seed_base": report.seed,
                    "runs": report.runs,
                    "runs_per_pass": report.runs_per_pass,
                    "replayed": report.replayed,
                    "workers": {"backend": report.stats.backend, "workers": report.stats.workers},
                    "seconds": round(report.seconds, 3),
                    "coverage": report.coverage.to_json(),
                    "properties": [
                        {
                            "property": o.prop,
                            "title": TITLES[o.prop],
                            "held": o.held,
                            "examples": o.examples,
                            "exercised": o.exercised,
                            "vacuous": vacuous(o.held, o.exercised),
                            "steps": o.steps,
                            "seconds": round(o.seconds, 3),
                            "violation": str(o.violation) if o.violation else None,
                            "trace": str(o.trace_path) if o.trace_path else None,
                            "trace_length": len(o.trace.events) if o.trace else None,
                            "same_trace_as": o.extra.get("same_trace_as"),
                        }
                        for o in outcomes
                    ],
                },
                indent=2,
            )
        )
        return 1 if failed else 0
    _table(params, setup.rules.name, profile, args.seed, outcomes, TITLES, report)
    return 1 if failed else 0


def _table(params, rules_name, profile, seed, outcomes, titles, report) -> None:
    from rich.console import Console
    from rich.table import Table

    from asfl.properties.judge.coverage import coverage_rows, vacuous
    from asfl.properties.judge.suite import correct_slots, correct_slots_cover
    from asfl.spec.params import QUOTA_SLACK

    console = Console()
    console.print(
        f"asfl check: n_c={params.n_c} t_c={params.t_c} n_a={params.n_a} t_a={params.t_a} T={params.T} "
        f"m={params.m} R={params.R} Q={params.Q} rules={rules_name} profile={profile} "
        f"seed={report.seed}{' (the profile default)' if seed is None else ''}",
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold")
    for col in ("property", "verdict", "runs judged", "exercised", "trace"):
        table.add_column(col)
    for o in outcomes:
        verdict = "[green]held[/green]" if o.held else "[red]VIOLATED[/red]"
        if vacuous(o.held, o.exercised):
            verdict = "[yellow]held (vacuous)[/yellow]"
        table.add_row(
            f"{o.prop} {titles[o.prop]}",
            verdict,
            str(o.examples),
            str(o.exercised),
            ""
            if o.held
            else f"{o.trace_path.name} ({len(o.trace.events)} steps"
            + (f", the trace of {o.extra['same_trace_as']})" if "same_trace_as" in o.extra else ")"),
        )
    console.print(table)
    console.print(
        f"one search: {report.runs} runs, {report.steps} steps, {report.seconds:.1f}s "
        f"({report.steps / max(report.seconds, 1e-9):.0f} steps/s), {report.stats.workers} "
        f"worker{'s' if report.stats.workers > 1 else ''} ({report.stats.backend})"
        + (f", {report.replayed} runs replayed from --db" if report.replayed else ""),
        highlight=False,
    )
    if any(o.prop == "P6" for o in outcomes) and not correct_slots_cover(params):
        console.print(
            f"P6: the victims of a persistent Byzantine coordinator are exempt from the balance clause here: "
            f"Q*n_c = {params.Q * params.n_c} > (R-{QUOTA_SLACK})*(n_a-t_a)*m = "
            f"{correct_slots(params)} (finding F7)",
            highlight=False,
        )
    cov = Table(title="coverage (counts are runs)", title_justify="left")
    cov.add_column("covered")
    cov.add_column("reached (never)")
    for what, reached, never in coverage_rows(report.coverage):
        cov.add_row(what, reached + (f" [yellow](never: {never})[/yellow]" if never else ""))
    console.print(cov)
    for o in outcomes:
        if not o.held:
            console.print(f"{o.violation}", highlight=False)
            console.print(f"  replay: {command_prefix()}replay {o.trace_path}", highlight=False)
    console.print(
        f"reproduce: asfl check ... --seed {report.seed}"
        + (f" --max-examples {report.runs_per_pass}" if report.runs_per_pass else "")
        + ("" if not report.replayed else " --db (the same database)"),
        highlight=False,
    )
