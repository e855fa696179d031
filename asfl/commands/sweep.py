"""`asfl sweep`: every property on a grid of sizes, on the shipped protocol (issue 18).

Each configuration is either refused by the parameters (the condition named, with its numbers) or
judged by one search of every selected property (`properties/search/sweep.py`). The manifest, one
row per configuration, is rewritten whole (temporary file, then rename) after every configuration,
so a campaign stopped half-way keeps its rows and `--resume` judges only the rest; a violated
property's trace goes to --traces. Exit 0 when nothing was violated, 1 when a configuration was,
2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

from ..errors import UsageError, finished
from ..limits import MAX_EXAMPLES, bounded
from ..safe_io import output_dir, output_file
from .scale import add_scale_options, scale_from

#: at most this many configurations in one sweep (a grid is a product: a typo multiplies it)
MAX_CONFIGURATIONS = 5_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="check every property on a grid of sizes (a campaign)")
    p.add_argument(
        "--n-c", default="8-24", help="clients: a list and/or ranges, e.g. 8-24 or 8,12 (default 8-24)"
    )
    p.add_argument("--t-c", default="0-2", help="clients that may crash (default 0-2)")
    p.add_argument(
        "--n-a", default="4,7", help="aggregators, t_a the most n_a >= 3t_a+1 allows (default 4,7)"
    )
    p.add_argument("--rounds", default="3,4,6", help="rounds R (default 3,4,6)")
    p.add_argument(
        "--properties", default="P1,P2,P3,P4,P5,P6,P7,P8,P9", help="comma-separated subset (default all)"
    )
    p.add_argument(
        "--max-examples", type=int, default=None, help="runs per configuration (default: the profile's)"
    )
    p.add_argument("--profile", choices=["ci", "deep"], default=None, help="Hypothesis profile (default ci)")
    p.add_argument(
        "--out", default="sweep-manifest.json", help="the manifest file (default sweep-manifest.json)"
    )
    p.add_argument("--traces", default="traces/sweep", help="counterexample traces (default ./traces/sweep)")
    p.add_argument("--json", action="store_true", help="print the manifest instead of a table")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows of the --out manifest judged on this protocol with this budget, judge the rest",
    )
    add_scale_options(p, budget=False, db=False)
    p.set_defaults(run=run)


def sizes(text: str, option: str) -> tuple[int, ...]:
    """`8-24`, `8,12,16` or `4,8-10`: the integers named, sorted, each once."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise UsageError(f"{option} {text!r}: give integers and ranges such as 8-24 or 8,12")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if hi < lo:
            raise UsageError(f"{option} {text!r}: the range {part} is empty (write low-high)")
        if hi - lo > MAX_CONFIGURATIONS:
            raise UsageError(f"{option} {text!r}: the range {part} is longer than {MAX_CONFIGURATIONS}")
        out.update(range(lo, hi + 1))
    return tuple(sorted(out))


def earlier_rows(out, judged_by: dict[str, Any]) -> dict[tuple, Any]:
    """The rows `--resume` keeps: those of the --out manifest, if it was judged on this protocol, by
    this engine, for these properties, with this profile and this budget (`judged_by`). Anything
    else is refused, never silently mixed."""
    from asfl.properties.search.sweep import Row

    if not out.exists():
        return {}
    try:
        doc = json.loads(out.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"--resume: {out} is not a sweep manifest ({e}); move it away or drop --resume"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise UsageError(f"--resume: {out} is not a sweep manifest (no rows); move it away or drop --resume")
    for key, value in judged_by.items():
        if doc.get(key) != value:
            raise UsageError(
                f"--resume: {out} was judged with {key} {doc.get(key)!r}, this sweep has {value!r}; "
                "resume with the same options and spec, or write a new --out"
            )
    kept = {}
    for doc_row in doc["rows"]:
        try:
            row = Row.from_json(doc_row)
        except ValueError as e:
            raise UsageError(f"--resume: {out}: {e}; move it away or drop --resume") from None
        kept[config_key(row.config)] = row
    return kept


def config_key(config: dict[str, int]) -> tuple:
    return tuple(sorted(config.items()))


def run(args: argparse.Namespace) -> int:
    from asfl.properties.judge.suite import PROPERTIES
    from asfl.properties.search.runner import trace_filename
    from asfl.properties.search.sweep import Grid, manifest, sweep
    from asfl.properties.traces.itf import engine_fingerprint, protocol_fingerprint, write_itf
    from asfl.reference.atomic import write_atomic

    grid = Grid(
        n_c=sizes(args.n_c, "--n-c"),
        t_c=sizes(args.t_c, "--t-c"),
        n_a=sizes(args.n_a, "--n-a"),
        R=sizes(args.rounds, "--rounds"),
    )
    configs = grid.configurations()
    if len(configs) > MAX_CONFIGURATIONS:
        raise UsageError(
            f"the grid has {len(configs)} configurations, more than {MAX_CONFIGURATIONS}; narrow it"
        )
    wanted = [p.strip().upper() for p in args.properties.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PROPERTIES]
    if unknown or not wanted:
        raise UsageError(f"unknown properties {unknown}; choose among {', '.join(PROPERTIES)}")
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    bounded("--max-examples", args.max_examples, MAX_EXAMPLES)
    profile = args.profile or os.environ.get("ASFL_PROFILE", "ci")
    scale = scale_from(args)
    out = output_file(args.out, "--out")
    traces_dir = output_dir(args.traces, "--traces")
    budget = args.max_examples or "profile"
    protocol, engine = protocol_fingerprint(), engine_fingerprint()
    judged_by = {
        "protocol": protocol,
        "engine": engine,
        "properties": wanted,
        "profile": profile,
        "max_examples": budget,
    }
    kept = earlier_rows(out, judged_by) if args.resume else {}
    judged = {config_key(c): kept[config_key(c)] for c in configs if config_key(c) in kept}
    if judged and not args.json:
        print(f"resuming: {len(judged)} of {len(configs)} configurations judged in {out}", flush=True)

    def save(complete: bool) -> dict:
        """The manifest so far, in the grid's order; rewritten whole after every configuration."""
        rows = [judged[config_key(c)] for c in configs if config_key(c) in judged]
        doc = manifest(rows, grid.to_json(), wanted, profile, budget, protocol, complete, engine)
        write_atomic(out, json.dumps(doc, indent=1) + "\n")
        return doc

    def keep_trace(row, result) -> str:
        c = row.config
        name = f"n{c['n_c']}-t{c['t_c']}-a{c['n_a']}-R{c['R']}-{trace_filename(result, 'asfl')}"
        traces_dir.mkdir(parents=True, exist_ok=True)
        return str(write_itf(traces_dir / name, result.trace))

    saved: list = []

    def progress(row) -> None:
        if not saved:  # an interruption from now on says what it keeps (errors.interrupted)
            finished(f"the rows judged so far, in {out} (asfl sweep --resume judges the rest)")
            saved.append(out)
        judged[config_key(row.config)] = row
        save(complete=False)
        if not args.json:
            verdict = row.status if row.status != "refused" else f"refused by {row.condition}: {row.reason}"
            if row.status == "violated":
                verdict += " " + ", ".join(p for p, r in row.properties.items() if not r.get("held", True))
            verdict += "".join(
                f"; {p} refused by {r['refused']} ({r['reason']})"
                for p, r in row.properties.items()
                if "refused" in r
            )
            print(f"{row.label():<34} {verdict} ({row.seconds:.1f} s)", flush=True)

    sweep(
        [c for c in configs if config_key(c) not in judged],
        wanted,
        profile,
        args.max_examples,
        on_row=progress,
        on_trace=keep_trace,
        workers=scale.workers,
        ray=scale.ray,
    )
    doc = save(complete=True)
    finished(f"manifest {out}")
    s = doc["summary"]
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(
            f"{s['configurations']} configurations: {s['held']} held, {s['violated']} violated, "
            f"{s['refused']} refused, P6 refused by H1 at {s['P6 refused (H1)']}; {s['seconds']} s; "
            f"manifest {out}"
        )
    return 1 if s["violated"] else 0
