"""`asfl replay FILE`: re-execute an ITF trace and re-judge the property it records.

Reports the same violation (exit 1), that the property now holds (exit 0), or that the protocol
changed since the trace was recorded (its fingerprint differs), which explains a different verdict.
"""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-execute an ITF trace and re-judge its property")
    p.add_argument("file", help="an *.itf.json trace written by 'asfl check'")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from asfl.properties.runner import judge_trace
    from asfl.properties.traces import read_itf, replay
    from asfl.spec.world import InvalidEvent

    try:
        trace = read_itf(args.file)
    except ValueError as e:
        raise UsageError(str(e)) from e
    try:
        rep = replay(trace)
    except (ValueError, InvalidEvent) as e:
        raise UsageError(f"{args.file}: the trace does not replay ({e})") from e
    try:
        violation = judge_trace(trace, rep.worlds)
    except ValueError as e:
        raise UsageError(f"{args.file}: {e}") from e
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
