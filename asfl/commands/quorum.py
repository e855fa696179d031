"""`asfl quorum`: the quorum conditions Q1-Q6 (PROTOCOL.md section 2), checked by z3.

With all four sizes it checks those; with some, it proves or refutes each condition for every value
of the others; with none, it also proves the general theorems (TH1-TH4). Quantified checks assume the
system model, including the clusters' size assumption `n_c >= n_a * (t_c + 1)` (printed; dropped by
--no-size-assumption, which shows why it is needed: Q5 fails at n_c=2, t_c=1, n_a=2). Exit 0 when
everything holds, 1 when something is refuted, 2 on bad input.

With no sizes it also judges the spec's own parameters against the theory (theory/spec_params.py):
`spec/params.py` must refuse exactly the sizes, thresholds and set sizes that break Q1-Q6, and derive
the defaults of section 2, on every size of a small scope. `asfl --spec DIR quorum` judges DIR's spec
(issue 13: a change to spec/params.py is judged here, since `asfl check` runs one accepted
configuration and cannot see which others the change accepts).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from asfl.properties.theory.expressions import (
    DEFAULT_MIN_SET,
    DEFAULT_THRESHOLD,
    SIZE_ASSUMPTION,
    Expr,
    ExprError,
    parse,
)

from ..errors import UsageError
from .common import print_json

if TYPE_CHECKING:
    from asfl.properties.theory.quorum import Setting, Verdict
    from asfl.properties.theory.spec_params import SpecVerdict


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quorum",
        help="prove or refute the quorum conditions Q1-Q6 with z3",
        description=__doc__.splitlines()[0],
    )
    g = p.add_argument_group("sizes (omit to quantify over all values)")
    g.add_argument("--n-c", type=int, default=None, help="clients")
    g.add_argument("--t-c", type=int, default=None, help="clients that may crash")
    g.add_argument("--n-a", type=int, default=None, help="aggregators")
    g.add_argument("--t-a", type=int, default=None, help="Byzantine aggregators")
    p.add_argument(
        "--threshold",
        default=DEFAULT_THRESHOLD,
        metavar="EXPR",
        help=f"T as an expression of n_c, t_c, n_a, t_a, k (default {DEFAULT_THRESHOLD!r})",
    )
    p.add_argument(
        "--min-set",
        default=DEFAULT_MIN_SET,
        metavar="EXPR",
        help=f"m as an expression; k = n_c // n_a (default {DEFAULT_MIN_SET!r})",
    )
    p.add_argument(
        "--no-resilience",
        action="store_true",
        help="do not assume n_a >= 3*t_a + 1 when quantifying over sizes",
    )
    p.add_argument(
        "--no-size-assumption",
        action="store_true",
        help=f"do not assume {SIZE_ASSUMPTION} (every cluster keeps a member beyond t_c crashes)",
    )
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(run=run)


def _expr(option: str, source: str) -> Expr:
    try:
        return parse(source)
    except ExprError as e:
        raise UsageError(f"{option}: {e.reason} at position {e.position} of {e.source!r}") from None


def run(args: argparse.Namespace) -> int:
    from asfl.properties.theory.quorum import SIZES, Setting, check_all, sizes_consistent, theorems
    from asfl.properties.theory.spec_params import judge_spec_params

    fixed = {s: getattr(args, s) for s in SIZES if getattr(args, s) is not None}
    setting = Setting(
        threshold=_expr("--threshold", args.threshold),
        min_set=_expr("--min-set", args.min_set),
        fixed=fixed,
        assume_resilience=not args.no_resilience,
        assume_cluster_size=not args.no_size_assumption,
    )
    if not sizes_consistent(setting):
        given = ", ".join(f"{k}={v}" for k, v in fixed.items())
        raise UsageError(
            f"no sizes satisfy the system model with {given} "
            "(need n_a >= 1, 0 <= t_a < n_a, n_c >= n_a, 0 <= t_c < n_c"
            + ("" if setting.concrete or args.no_resilience else ", n_a >= 3*t_a + 1")
            + ("" if setting.concrete or args.no_size_assumption else f", {SIZE_ASSUMPTION}")
            + ")"
        )
    start = time.perf_counter()
    conditions = check_all(setting)
    proved = theorems(setting.threshold) if not fixed else []
    elapsed = time.perf_counter() - start
    spec = judge_spec_params() if not fixed else None
    ok = all(v.holds for v in conditions + proved) and (spec is None or spec.agrees)
    mode = "concrete" if setting.concrete else "general"
    if args.json:
        print_json(
            {
                "mode": mode,
                "sizes": fixed,
                "threshold": str(setting.threshold),
                "min_set": str(setting.min_set),
                "assume_resilience": setting.assume_resilience and not setting.concrete,
                "size_assumption": SIZE_ASSUMPTION
                if setting.assume_cluster_size and not setting.concrete
                else None,
                "conditions": [v.to_json() for v in conditions],
                "theorems": [v.to_json() for v in proved],
                "spec_params": spec.to_json() if spec is not None else None,
                "all_hold": ok,
                "seconds": round(elapsed, 4),
            }
        )
        return 0 if ok else 1
    _print_tables(setting, conditions, proved, elapsed)
    if spec is not None:
        _print_spec(spec)
    return 0 if ok else 1


def _print_spec(spec: SpecVerdict) -> None:
    """The spec's parameters against the theory: agreement, or the first disagreements."""
    cases = ", ".join(f"{n} {clause}" for clause, n in spec.cases.items())
    if spec.agrees:
        print(f"spec/params.py agrees with the theory on every case of the scope ({cases})")
        return
    print(
        f"spec/params.py disagrees with the theory in {spec.total_disagreements} cases ({cases}); the first:"
    )
    for d in spec.disagreements:
        print(f"  {d}")


def _status(v: Verdict, concrete: bool) -> str:
    if v.status == "proved":
        return "[green]holds[/]" if concrete else "[green]proved[/]"
    if v.status == "refuted":
        return "[red]fails[/]" if concrete else "[red]refuted[/]"
    return "[yellow]unknown[/]"


def _cex(v: Verdict) -> str:
    if v.counterexample is None:
        return ""
    return " ".join(f"{k}={n}" for k, n in v.counterexample.items())


def _print_tables(setting: Setting, conditions: list[Verdict], proved: list[Verdict], elapsed: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    concrete = setting.concrete
    if concrete:
        scope = ", ".join(f"{k}={v}" for k, v in setting.fixed.items())
    else:
        fixed = "".join(f", {k}={v}" for k, v in setting.fixed.items())
        scope = "all sizes of the system model" + fixed
        if setting.assume_resilience:
            scope += ", n_a >= 3*t_a + 1"
        if setting.assume_cluster_size:
            scope += f", {SIZE_ASSUMPTION}"
    title = f"quorum conditions: T = {setting.threshold}, m = {setting.min_set}; {scope}"
    table = Table(title=title, title_justify="left")
    table.add_column("condition")
    table.add_column("statement")
    table.add_column("verdict")
    table.add_column("guards")
    table.add_column("counterexample" if not concrete else "values")
    for v in conditions:
        values = _cex(v) if v.status == "refuted" else ""
        table.add_row(v.name, v.statement, _status(v, concrete), v.breaks, values)
    console.print(table)
    if proved:
        th = Table(title="theorems (all n_a, t_a >= 0)", title_justify="left")
        th.add_column("theorem")
        th.add_column("statement")
        th.add_column("verdict")
        th.add_column("counterexample")
        for v in proved:
            th.add_row(v.name, v.statement, _status(v, False), _cex(v))
        console.print(th)
    if not concrete:
        if setting.assume_cluster_size:
            console.print(
                f"size assumption: {SIZE_ASSUMPTION}: every cluster keeps a member beyond the t_c clients "
                "that may crash (without it Q5 fails at n_c=2, t_c=1, n_a=2; see --no-size-assumption)"
            )
        else:
            console.print(f"size assumption {SIZE_ASSUMPTION} dropped (--no-size-assumption)")
    console.print(f"z3 time {elapsed:.3f} s")
