"""`asfl explore`: exhaustive BFS over every interleaving of a small configuration.

Prints distinct states, transitions, depth, time and the verdict per property (P1-P4, P6, P7 on
every state; P5 on the whole graph). Exit 0 when every property holds, 1 when one is violated,
2 on bad input. Counterexamples are written as ITF traces with `--trace-dir`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from asfl.properties.adversaries.menus import MENUS

from ..errors import UsageError
from ..limits import MAX_STATES, bounded, check_explore_sizes
from ..progress import STATES_PER_SECOND, long_run
from ..safe_io import output_dir
from .common import add_config_options, params_from, print_json

if TYPE_CHECKING:
    from asfl.properties.exhaustive.explorer import Exploration


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="explore every interleaving of a small configuration (BFS)",
        description=__doc__.splitlines()[0],
    )
    add_config_options(p, rounds=1)
    _small_defaults(p, n_c=2, t_c=1, n_a=1, t_a=0, dim=1)
    p.add_argument("--byzantine", default="", help="Byzantine aggregators, comma-separated (default none)")
    p.add_argument("--menu", choices=sorted(MENUS), default="silent", help="what Byzantine aggregators do")
    p.add_argument("--focus", default=None, help="only these clients train (comma-separated): safety only")
    p.add_argument(
        "--no-reduce", action="store_true", help="turn off the reductions (message-id symmetry, eager moves)"
    )
    p.add_argument(
        "--max-states", type=int, default=100_000, help="stop after this many states (default 100000)"
    )
    p.add_argument(
        "--stop-at", default="", help="stop once these properties are violated (comma-separated, e.g. P2)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the tiny value domain")
    p.add_argument("--trace-dir", type=Path, default=None, help="write counterexamples here as *.itf.json")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def _small_defaults(p: argparse.ArgumentParser, **defaults: int) -> None:
    """The explorer's defaults are far smaller than the simulator's; say so in --help too."""
    p.set_defaults(**defaults)
    for action in p._actions:
        if action.dest in defaults and action.help:
            action.help = re.sub(r"\(default \d+\)", f"(default {defaults[action.dest]})", action.help)


def _ints(option: str, text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{option} takes comma-separated integers, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from asfl.properties.judge.suite import STATE_PROPERTIES

    check_explore_sizes(args)
    params = params_from(args, symbolic=True)
    byzantine = _ints("--byzantine", args.byzantine) or []
    if len(set(byzantine)) > params.t_a or any(not 0 <= b < params.n_a for b in byzantine):
        raise UsageError(
            f"--byzantine: at most t_a={params.t_a} distinct aggregators among 0..{params.n_a - 1}"
        )
    focus = _ints("--focus", args.focus)
    if focus is not None and any(not 0 <= c < params.n_c for c in focus):
        raise UsageError(f"--focus: clients are 0..{params.n_c - 1}")
    stop_at = [s.strip() for s in args.stop_at.split(",") if s.strip()]
    unknown = [s for s in stop_at if s not in STATE_PROPERTIES]
    if unknown:
        raise UsageError(f"--stop-at: unknown safety properties {unknown}; known: {sorted(STATE_PROPERTIES)}")
    if args.max_states < 1:
        raise UsageError("--max-states must be at least 1")
    bounded("--max-states", args.max_states, MAX_STATES)
    if args.trace_dir is not None:
        output_dir(args.trace_dir, "--trace-dir")
    # the state count is unknown before the search: tick on a terminal, announce nothing
    with long_run("explore", args.max_states / STATES_PER_SECOND, "--max-states", announce=False):
        result = _explore(args, params, byzantine, focus, stop_at)
    written = _write_traces(result, args.trace_dir) if args.trace_dir else {}
    ok = all(v.holds for v in result.verdicts.values())
    if args.json:
        doc = {
            "params": {"n_c": params.n_c, "t_c": params.t_c, "n_a": params.n_a, "t_a": params.t_a},
            "T": params.T,
            "m": params.m,
            "R": params.R,
            "byzantine": list(result.byzantine),
            "menu": result.menu,
            "reduce": result.reduce,
            **result.summary(),
            "states_per_second": round(result.rate, 1),
            "verdicts": [
                v.to_json() | ({"trace": written[k]} if k in written else {})
                for k, v in result.verdicts.items()
            ],
        }
        print_json(doc)
        return 0 if ok else 1
    _print(result, written)
    return 0 if ok else 1


def _explore(args: argparse.Namespace, params, byzantine, focus, stop_at) -> Exploration:
    from asfl.properties.exhaustive.explorer import explore

    return explore(
        params,
        byzantine=byzantine,
        menu=args.menu,
        seed=args.seed,
        reduce=not args.no_reduce,
        focus=focus,
        max_states=args.max_states,
        stop_at=stop_at,
    )


def _write_traces(result: Exploration, directory: Path) -> dict[str, str]:
    from asfl.properties.traces.itf import write_itf

    out = {}
    for name, verdict in result.verdicts.items():
        if verdict.trace is not None:
            path = directory / f"explore-{name}.itf.json"
            directory.mkdir(parents=True, exist_ok=True)
            write_itf(path, verdict.trace)
            out[name] = str(path)
    return out


def _print(result: Exploration, written: dict[str, str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    p = result.params
    console.print(
        f"asfl explore: n_c={p.n_c} t_c={p.t_c} n_a={p.n_a} t_a={p.t_a} T={p.T} m={p.m} R={p.R} "
        f"byzantine={list(result.byzantine)} menu={result.menu} reduce={result.reduce}"
    )
    status = "complete" if result.complete else "INCOMPLETE (bound or stop reached)"
    console.print(
        f"{result.states} distinct states, {result.transitions} transitions, depth {result.depth}, "
        f"{result.seconds:.2f} s ({result.rate:.0f} states/s), {status}"
    )
    table = Table(title_justify="left")
    table.add_column("property")
    table.add_column("verdict")
    table.add_column("detail")
    for name, v in result.verdicts.items():
        detail = v.message + (f"  [trace: {written[name]}]" if name in written else "")
        if v.holds:
            verdict = "[green]holds[/]" if result.complete else "[yellow]none found[/]"
        else:
            verdict = "[red]violated[/]"
        table.add_row(name, verdict, detail)
    if "P5" not in result.verdicts:
        table.add_row("P5", "[yellow]not judged[/]", "needs a complete, unfocused exploration")
    console.print(table)
