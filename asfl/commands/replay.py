"""`asfl replay FILE`: re-execute an ITF trace and re-judge the property it records.

Reports the same violation (exit 1), that the property now holds (exit 0), or that the protocol
changed since the trace was recorded (its fingerprint differs), which explains a different verdict.
"""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from ..limits import MALFORMED, check_replay


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-execute an ITF trace and re-judge its property")
    p.add_argument(
        "file", help="an *.itf.json trace written by 'asfl check', or an 'asfl cluster up --record' file"
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from asfl.properties.search.runner import judge_trace
    from asfl.properties.traces.itf import read_itf, replay
    from asfl.spec.world import InvalidEvent

    if _runtime_format(args.file):
        return _replay_runtime(args)
    from . import runtime_itf

    runtime_itf.register()  # traces of networked runs (asfl cluster up --record FILE.itf.json)
    try:
        trace = read_itf(args.file)
    except ValueError as e:  # trace_reader.TraceError: one line naming the file and the field
        raise UsageError(str(e)) from None
    check_replay(trace.params, len(trace.events), args.file)
    try:
        rep = replay(trace)
    except (ValueError, InvalidEvent) + MALFORMED as e:  # the file's actions, not our code, are wrong
        raise UsageError(f"{args.file}: the trace does not replay ({type(e).__name__}: {e})") from None
    try:
        violation = judge_trace(trace, rep.worlds)
    except (ValueError,) + MALFORMED as e:
        raise UsageError(f"{args.file}: {e}") from None
    same = violation is not None and str(violation) == trace.description
    verdict = {
        "file": args.file,
        "property": trace.property,
        "rules": trace.rules,
        "steps": len(trace.events),
        "protocol_changed": rep.protocol_changed,
        "first_state_mismatch": rep.first_mismatch,
        "recorded": trace.description,
        "violated": violation is not None,
        "violation": str(violation) if violation else None,
        "same_violation": same,
    }
    if args.json:
        print(json.dumps(verdict, indent=2))
    else:
        print(
            f"asfl replay: {args.file}: {len(trace.events)} steps, "
            f"rules={trace.rules}, property {trace.property}"
        )
        if rep.protocol_changed:
            print("the protocol changed since this trace was recorded (fingerprint differs)")
        if rep.first_mismatch is not None:
            print(f"replayed state {rep.first_mismatch} differs from the recorded one")
        if violation is None:
            print(f"{trace.property} holds on this run now (recorded: {trace.description})")
        elif same:
            print(f"reproduced: {violation}")
        else:
            print(f"violated differently: {violation}\n  recorded: {trace.description}")
    return 1 if violation is not None else 0


def _runtime_format(path: str) -> bool:
    """Whether `path` is a networked run recorded by `asfl cluster up --record`."""
    import os
    import stat

    from asfl.reference.runtime.trace import FORMAT

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block open(); the reader refuses it
            return False
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return FORMAT.encode() in head


def _replay_runtime(args: argparse.Namespace) -> int:
    """Re-execute a networked run's schedule with `step`: the same certified sets and models as
    recorded and as the processes held (exit 0), or the differences (exit 1); P2 on the replay."""
    from asfl.reference.runtime.trace import TraceError, check, read_record, set_uniqueness_problems

    try:
        rec = read_record(args.file)
        world, problems = check(rec)
    except TraceError as e:
        raise UsageError(str(e)) from e
    p2 = set_uniqueness_problems(world)
    verdict = {
        "file": args.file,
        "format": rec["format"],
        "events": len(rec["events"]),
        "certified": len(rec["certified"]),
        "same_as_recorded": not problems,
        "problems": problems,
        "P2": "holds" if not p2 else p2,
    }
    if args.json:
        print(json.dumps(verdict, indent=2))
    else:
        print(
            f"asfl replay: {args.file}: {len(rec['events'])} events of a networked run, rules={rec['rules']}"
        )
        if problems:
            print("differs: " + "; ".join(problems))
        else:
            n = len(rec["certified"])
            print(f"same certified sets ({n}) and models as recorded and as the processes held")
        print("P2 set uniqueness holds" if not p2 else "P2 VIOLATED: " + "; ".join(p2))
    return 1 if problems or p2 else 0
