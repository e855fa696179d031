"""`asfl show FILE`: a per-party swimlane of an ITF trace, in the terminal and as an SVG."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..limits import MALFORMED, check_replay
from ..safe_io import output_file
from .common import write_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a trace as a per-party swimlane and write it as SVG")
    p.add_argument("file", help="an *.itf.json trace")
    p.add_argument("--svg", default=None, help="SVG output path (default: FILE with .svg)")
    p.add_argument("--last", type=int, default=None, help="show only the last N steps")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from asfl.properties.traces.itf import read_itf
    from asfl.properties.traces.swimlane import lanes, party_names, render_rich, render_svg
    from asfl.spec.world import InvalidEvent

    from . import runtime_itf

    runtime_itf.register()  # traces of networked runs (asfl cluster up --record FILE.itf.json)
    if args.last is not None and args.last < 1:
        raise UsageError("--last must be at least 1")
    name = args.file[: -len(".itf.json")] if args.file.endswith(".itf.json") else args.file
    # checked before the trace is read: never replaces a link or a device (issue #17)
    svg_path = output_file(args.svg or name + ".svg", "--svg")
    try:
        trace = read_itf(args.file)
    except ValueError as e:  # trace_reader.TraceError: one line naming the file and the field
        raise UsageError(str(e)) from None
    check_replay(trace.params, len(trace.events), args.file)
    try:
        worlds = trace.worlds()
    except (ValueError, InvalidEvent) + MALFORMED as e:  # the file's actions, not our code, are wrong
        raise UsageError(f"{args.file}: cannot show this trace ({type(e).__name__}: {e})") from None
    rows = lanes(trace, worlds)
    if args.last is not None:
        rows = rows[-args.last :]
    involved = {row.src for row in rows} | {row.dst for row in rows}
    names = [n for n in party_names(worlds[0]) if n in involved]
    console = Console(width=max(120, 14 * len(names)))
    render_rich(trace, rows, names, worlds[0].byzantine, console)
    try:
        write_atomic(svg_path, render_svg(trace, rows, names, worlds[0].byzantine))
    except OSError as e:
        raise UsageError(f"cannot write {svg_path}: {e.strerror or e}") from e
    console.print(f"swimlane SVG: {svg_path}", highlight=False)
    return 0
