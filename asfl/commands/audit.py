"""`asfl audit`: what a protocol change breaks, before it ships (docs: README, "Audit a change")."""

from __future__ import annotations

import argparse
import io
import json
import statistics
from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from ..limits import MAX_EXAMPLES, bounded, finite
from ..safe_io import output_dir, safe_name
from ..sandbox import Channel, run_isolated, spec_failure
from .common import add_config_options, balance_judged, params_from, print_json, write_atomic
from .scale import add_scale_options, scale_from

#: seconds a variant may spend importing, and in one call of one of its rules (audit/variant_guard.py)
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 86_400.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit a variant of the protocol (or the mutant catalogue)")
    p.add_argument(
        "variant",
        nargs="?",
        help="a variant file (Python; see README), or with --base a checkout or spec folder "
        "(default: the working tree's spec/)",
    )
    p.add_argument(
        "--base",
        default=None,
        metavar="REV",
        help="audit a changed spec/ against spec/ at git revision REV (docs/check.md, 'Audit a spec diff')",
    )
    p.add_argument(
        "--one-size",
        action="store_true",
        help="audit at the configuration given only, not also at n_c=12, t_c=1, n_a=4 (m=2)",
    )
    p.add_argument("--mutants", action="store_true", help="run the shipped mutant catalogue: the kill matrix")
    add_config_options(p)
    p.add_argument("--max-examples", type=int, default=20, help="examples per property (default 20)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default=None, help="write report.md and the traces there")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds the variant may take to import, and per call of a rule (default {DEFAULT_TIMEOUT:g})",
    )
    add_scale_options(p, budget=False, db=False)
    p.set_defaults(run=run)


def _swimlane_text(trace) -> str:
    from rich.console import Console

    from asfl.properties.traces.swimlane import lanes, party_names, render_rich

    worlds = trace.worlds()
    rows = lanes(trace, worlds)[-30:]
    involved = {row.src for row in rows} | {row.dst for row in rows}
    names = [n for n in party_names(worlds[0]) if n in involved]
    console = Console(file=io.StringIO(), width=max(120, 14 * len(names)), record=True, color_system=None)
    render_rich(trace, rows, names, worlds[0].byzantine, console)
    return console.export_text()


def run(args: argparse.Namespace) -> int:
    from asfl.properties.audit import compare as audit_mod
    from asfl.properties.audit.variant_file import MAX_VARIANT_BYTES
    from asfl.properties.search.workers import Workers
    from asfl.reference.safe_read import InputError, read_text_bounded

    if args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    bounded("--max-examples", args.max_examples, MAX_EXAMPLES)
    finite("--timeout", args.timeout, 0, MAX_TIMEOUT)
    spec_diff = args.base is not None or (args.variant is not None and Path(args.variant).is_dir())
    if args.mutants and (args.variant or args.base):
        raise UsageError("give a variant, a spec folder or --base, or --mutants for the catalogue (not both)")
    if not spec_diff and not args.variant and not args.mutants:
        raise UsageError("give a variant file, a spec folder, --base REV, or --mutants for the catalogue")
    params = params_from(args, symbolic=True)
    balance_judged(params, ["P6"], args.allow_unsafe)  # the audit judges every property
    scale = scale_from(args)
    args.on = Workers(scale.workers, scale.ray)
    if args.out:
        output_dir(args.out, "--out")
    if args.mutants:
        return _mutants(args, params, audit_mod)
    if spec_diff:
        from . import audit_spec

        return audit_spec.run(args, params)
    try:  # refused here, before a child is started: not a file, not text, too large
        read_text_bounded(args.variant, MAX_VARIANT_BYTES, "variant file")
    except InputError as e:
        raise UsageError(str(e)) from None
    # the variant is the user's program: it runs in a child process (sandbox.py)
    return run_isolated(lambda channel: _audit_variant(args, params, channel), args.variant, args.timeout)


def _audit_variant(args: argparse.Namespace, params, channel: Channel) -> int:
    """The child's work: import the variant under --timeout, audit it with its rules guarded
    (audit/variant_guard.py), write the report, print the verdict."""
    from asfl.properties.audit import compare as audit_mod
    from asfl.properties.audit.spec_diff import size_folder
    from asfl.properties.audit.variant_file import VariantError, load
    from asfl.properties.audit.variant_guard import TimeLimit, guard, time_limit
    from asfl.spec import Params

    from .audit_spec import audited_configs

    try:
        with time_limit(args.timeout):
            variant = load(args.variant)
    except VariantError as e:
        raise UsageError(str(e)) from None
    except TimeLimit:
        raise UsageError(
            f"{args.variant}: did not finish importing within {args.timeout:g} s (--timeout)"
        ) from None
    except SystemExit as e:  # the user's sys.exit at import is never a verdict
        raise UsageError(
            f"{args.variant}: the variant called sys.exit({e.code!r}) at import; a variant only defines names"
        ) from None
    channel.send("loaded")
    # names from the user's file become file names: keep them inside --out
    variant = replace(guard(variant, args.timeout), name=safe_name(variant.name))
    out = Path(args.out) if args.out else None
    results = []
    for k, config in enumerate(audited_configs(args, params)):
        size = params if k == 0 else Params(**config)
        # the configuration given keeps --out's top level; the second size gets a folder of its own
        size_out = out if out is None or k == 0 else out / size_folder(config)
        if size_out is not None:
            size_out.mkdir(parents=True, exist_ok=True)
        results.append(_audit_size(args, variant, size, size_out, channel, audit_mod))
    if out is not None:
        report = "\n".join(audit_mod.markdown_report(r, _lanes(r)) for r in results)
        write_atomic(out / "report.md", report)
    vacuous = [n for n in results[0].vacuous_rules if all(n in r.vacuous_rules for r in results)]
    if args.json:
        newly = [p for r in results for p in r.newly_violated]
        print_json(
            {
                "variant": variant.name,
                "description": variant.description,
                "changes": variant.changes,
                "newly_violated": list(dict.fromkeys(newly)),
                "vacuous_rules": vacuous,
                "sizes": [r.to_json() for r in results],
            }
        )
    else:
        for r in results:
            _print(r, audit_mod)
        if vacuous:
            print(
                f"vacuous at every audited size: no run consulted {', '.join(vacuous)}, "
                "so the verdicts say nothing of that change"
            )
    return 1 if any(r.breaks for r in results) else 0


def _audit_size(args, variant, params, out, channel, audit_mod):
    """The variant audited at one size; a failure of the spec under its rules is said in one line."""
    from asfl.properties.audit.variant_guard import RuleFailure
    from asfl.properties.search.workers import WorkerLost

    try:
        return audit_mod.audit(
            variant,
            params,
            args.max_examples,
            args.seed,
            out,
            progress=lambda text: channel.send("progress", text=f"asfl audit: {text}"),
            on=args.on,
        )
    except RuleFailure as e:
        raise UsageError(str(e)) from None
    except WorkerLost as e:  # a rule ended its worker process: the sandbox's verdict on an exit
        raise UsageError(
            f"{args.variant}: the variant ended the run before any verdict (a worker process ended: {e}); "
            "a variant file only defines names and must not exit"
        ) from None
    except Exception as e:  # noqa: BLE001 - the spec failed under the variant's rules: its doing
        raise spec_failure(e, args.variant, None) from None


def _lanes(result) -> dict[str, str]:
    """Swimlanes of the new violations' traces, for the report."""
    return {
        p: _swimlane_text(o.trace)
        for p, o in result.changed.properties.items()
        if o.trace is not None and p in result.newly_violated
    }


def _print(result, audit_mod) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]asfl audit[/]: {result.variant.name}: {result.variant.description}")
    console.print(f"changes: {', '.join(result.variant.changes) or 'none'}")
    q = result.params
    console.print(
        f"configuration: n_c={q.n_c}, t_c={q.t_c}, n_a={q.n_a}, t_a={q.t_a}, T={q.T}, m={q.m}, R={q.R}"
    )
    focus = audit_mod.focus_of(result.variant.rules)
    console.print(f"directed search (the adversaries of the rules replaced): {', '.join(focus) or 'none'}")
    table = Table()
    for col in ("property", "baseline", "variant", "trace"):
        table.add_column(col)
    for prop, o in result.changed.properties.items():
        base = audit_mod.baseline_verdict(result.baseline.properties[prop])
        path = result.trace_paths.get(prop)
        shown = audit_mod.verdict(o)
        table.add_row(prop, base, shown if o.held else f"[red]{shown}[/]", str(path) if path else "")
    console.print(table)
    if result.changed.coverage is not None:
        from asfl.properties.judge.coverage import coverage_rows

        cov = Table(title="coverage of the variant's searches (counts are runs)", title_justify="left")
        cov.add_column("covered")
        cov.add_column("reached (never)")
        for what, reached, never in coverage_rows(result.changed.coverage):
            cov.add_row(what, reached + (f" (never: {never})" if never else ""))
        console.print(cov)
    console.print(f"quorum conditions newly refuted: {', '.join(result.newly_refuted) or 'none'}")
    console.print(f"properties newly violated: {', '.join(result.newly_violated) or 'none'}")
    console.print(f"properties that now hold and did not: {', '.join(result.newly_held) or 'none'}")
    if result.vacuous_rules:
        console.print(f"[yellow]vacuous here[/]: no run consulted {', '.join(result.vacuous_rules)}")
    console.print(f"{result.seconds:.1f} s")


def _spec_patches(args, params) -> list:
    """The catalogue's patches of spec/ (audit/spec_mutants.py), each audited as a spec diff against
    the installed spec at the configuration given, on every core: (kill row, the property it breaks)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import asfl.spec
    from asfl.properties.audit import spec_mutants
    from asfl.properties.audit.spec_diff import SpecDiffError

    from . import audit_spec

    spec = Path(asfl.spec.__path__[0])
    config = audit_spec._config(args, params)
    cache: dict = {}
    mutants = spec_mutants.spec_catalogue()
    try:
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            rows = list(
                pool.map(
                    lambda m: spec_mutants.kill(m, spec, config, args.max_examples, cache, workers=1), mutants
                )
            )
    except (spec_mutants.PatchError, SpecDiffError) as e:
        raise UsageError(str(e)) from None
    return [(row, m.breaks) for row, m in zip(rows, mutants, strict=True)]


def _mutants(args, params, audit_mod) -> int:
    from rich.console import Console
    from rich.table import Table

    from asfl.properties.search.runner import PROPERTY_ORDER

    rows = [audit_mod.kill(v, params, args.max_examples, args.on) for v in audit_mod.catalogue()]
    patches = _spec_patches(args, params)
    rows += [row for row, _ in patches]
    breaks = {row.mutant: prop for row, prop in patches}
    if args.out:
        doc = {
            r.mutant: {
                "killed_by": r.killed_by,
                "directed": r.directed,
                "exhaustive": r.exhaustive,
                "refuted": r.refuted,
                **({"breaks": breaks[r.mutant]} if r.mutant in breaks else {}),
            }
            for r in rows
        }
        write_atomic(Path(args.out) / "kill-matrix.json", json.dumps(doc, indent=2) + "\n")
    times = [r.seconds_to_kill for r in rows if r.seconds_to_kill is not None]
    if args.json:
        print_json(
            {
                "mutants": [r.__dict__ for r in rows],
                "median_seconds_to_kill": statistics.median(times) if times else None,
            }
        )
    else:
        table = Table(
            title="kill matrix (x = the property's exploration kills the mutant; "
            "d = only the directed search, with the adversaries of the rules it replaces)"
        )
        table.add_column("mutant")
        for p in PROPERTY_ORDER:
            table.add_column(p, justify="center")
        table.add_column("exhaustive")
        table.add_column("z3")
        table.add_column("s to kill", justify="right")
        table.add_column("trace", justify="right")
        for r in rows:
            table.add_row(
                r.mutant,
                *[("d" if p in r.directed else "x") if p in r.killed_by else "" for p in PROPERTY_ORDER],
                ",".join(r.exhaustive),
                ",".join(c.split()[0] for c in r.refuted),
                f"{r.seconds_to_kill:.1f}" if r.seconds_to_kill is not None else "-",
                str(r.trace_steps or "-"),
            )
        Console(width=160).print(table)
        survivors = [r.mutant for r in rows if not r.killed_by and not r.exhaustive]
        print(
            f"{len(rows) - len(survivors)}/{len(rows)} mutants killed; median time to kill "
            f"{statistics.median(times):.1f} s"
            if times
            else "no mutant killed"
        )
        if survivors:
            print("survivors:", ", ".join(survivors))
    return 1 if any(not r.killed_by and not r.exhaustive for r in rows) else 0
