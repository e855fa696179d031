"""`asfl audit --base REV [PATH]`: the spec-diff half of `asfl audit` (properties/audit/spec_diff.py).

The changed spec is PATH's (a checkout or a spec folder), by default the working tree's `spec/`;
the baseline is `spec/` at git revision REV of the checkout of the current directory, or, without --base, the
spec of the installed asfl. Exit 0: nothing newly violated; 1: a property newly violated; 2: bad
input (a revision git does not know, a spec that does not import or that raises).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..errors import UsageError
from ..safe_io import output_dir
from ..spec_overlay import spec_dir
from .common import print_json, write_atomic


def _config(args: argparse.Namespace, params) -> dict:
    return {
        "n_c": params.n_c,
        "t_c": params.t_c,
        "n_a": params.n_a,
        "t_a": params.t_a,
        "R": params.R,
        "T": args.threshold,
        "m": args.m,
        "Q": args.quota,
        "s_max": params.s_max,
        "d": params.d,
        "allow_unsafe": bool(args.allow_unsafe),
    }


def audited_configs(args: argparse.Namespace, params) -> list[dict]:
    """The sizes an audit judges (issue 13): the configuration given and, unless --one-size, the
    second size (`spec_diff.SECOND_SIZE`: clusters of 3, m = 2) with T, m and Q from their formulas."""
    from asfl.properties.audit.spec_diff import SECOND_SIZE

    first = _config(args, params)
    second = {**first, **SECOND_SIZE, "T": None, "m": None, "Q": None}
    return [first] if args.one_size or second == first else [first, second]


def run(args: argparse.Namespace, params) -> int:
    import asfl.spec
    from asfl.properties.audit import spec_diff

    configs = audited_configs(args, params)
    changed_path = Path(args.variant) if args.variant else Path.cwd()
    try:
        changed = spec_dir(changed_path) if args.variant else spec_dir(spec_diff.git_root(changed_path))
    except spec_diff.SpecDiffError as e:
        raise UsageError(f"{e}; give the changed spec's folder as PATH") from None
    out = output_dir(args.out, "--out") if args.out else None
    with tempfile.TemporaryDirectory(prefix="asfl-base-") as tmp:
        try:
            if args.base is not None:
                base = spec_diff.spec_at_revision(spec_diff.git_root(Path.cwd()), args.base, Path(tmp))
                base_label = f"spec/ at {args.base}"
            else:
                base = Path(asfl.spec.__path__[0])
                base_label = "the installed spec"
            result = spec_diff.spec_audit(
                base,
                changed,
                configs,
                args.max_examples,
                args.seed,
                Path(out) if out else None,
                base_label,
                str(changed_path) if args.variant else "spec/ of the working tree",
            )
        except spec_diff.SpecDiffError as e:
            raise UsageError(str(e)) from None
    if out is not None:
        write_atomic(Path(out) / "report.md", spec_diff.markdown_report(result))
    if args.json:
        print_json(result.to_json())
    else:
        _print(result, spec_diff)
    return 1 if result.breaks else 0


def _print_params(console, judged: dict, spec_diff) -> None:
    """A changed params.py, judged by the quorum theory on each side (asfl quorum's spec clauses)."""
    base, changed = judged["baseline"], judged["changed"]
    colour = "red" if base["agrees"] and not changed["agrees"] else "green"
    console.print(
        f"params.py changed, judged by the quorum theory: baseline {spec_diff.params_said(base)}, "
        f"[{colour}]changed {spec_diff.params_said(changed)}[/]",
        soft_wrap=True,
    )
    for d in changed["first"][:3]:
        console.print(f"  {spec_diff.params_case(d)}", soft_wrap=True, highlight=False)


def _print(result, spec_diff) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]asfl audit[/]: {result.changed_label} against {result.base_label}")
    if not result.changes:
        console.print("changed functions: none (the two spec folders define the same code)")
    else:
        console.print("changed functions: " + ", ".join(f"{c.name} ({c.how})" for c in result.changes))
    console.print(
        f"directed search (the adversaries of the changed functions): {', '.join(result.focus) or 'none'}"
    )
    if result.judge_changed:
        console.print(
            f"[yellow]not searched[/]: {', '.join(result.judge_changed)} changed; both sides' searches "
            "run the baseline's (the judge's parameters are the protocol's own; a changed params.py is "
            "judged by the quorum theory below; audit thresholds with a variant file)"
        )
    if result.params_theory is not None:
        _print_params(console, result.params_theory, spec_diff)
    for s in result.sizes:
        table = Table(title=spec_diff.size_label(s.config))
        for col in ("property", "baseline", "changed", "trace steps"):
            table.add_column(col)
        shown_traces = []
        for p, row in s.changed["properties"].items():
            base = "held" if s.baseline_held(p) else "violated"
            if s.same_schedule.get(p):
                base = "violated (same schedule)"
            shown = "held" if row["held"] else "VIOLATED" + (" (directed)" if row.get("directed") else "")
            steps = ""
            if row.get("trace") and p in s.newly_violated:
                steps = str(row["trace_steps"])
                where = row["trace"] if result.spec_copy is not None else "kept with --out DIR"
                shown_traces.append(f"  {p}: {where}" + (" (replays)" if row.get("replays") else ""))
                shown_traces.append(f"      {row['reason']}")
            table.add_row(p, base, shown if row["held"] else f"[red]{shown}[/]", steps)
        console.print(table)
        explored = [p for p in s.newly_violated if p.endswith("(exhaustive)")]
        if explored:
            console.print(f"small exhaustive configuration: newly violated {', '.join(explored)}")
        if shown_traces:
            console.print("traces of the new violations (shrunk):", soft_wrap=True)
            for line in shown_traces:
                console.print(line, soft_wrap=True, highlight=False)
        if s.not_judged:
            console.print(
                f"[yellow]not judged[/]: {', '.join(s.not_judged)} "
                "(a run on which the spec raised ended the search)"
            )
        vacuous = s.vacuous(result.changes)
        if vacuous:
            console.print(
                f"[yellow]vacuous[/] at {spec_diff.size_label(s.config)}: never called: {', '.join(vacuous)}"
            )
    console.print(f"properties newly violated: {', '.join(result.newly_violated) or 'none'}")
    if result.spec_copy is not None and result.newly_violated:
        console.print(f"replay a trace: asfl --spec {result.spec_copy} replay TRACE", soft_wrap=True)
    console.print(f"{result.seconds:.1f} s")
