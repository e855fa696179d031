"""Benchmark of `asfl check` (never run by the test command).

1. Throughput on the default configuration (n_c=8, t_c=1, n_a=4, t_a=1, R=4): one search judging
   every property, the `ci` profile: runs per second and protocol steps per second, and the steps
   per second of the bare spec `step` (replaying the same runs, no adversary, no judgement).
2. For each broken variant (`asfl.properties.audit.broken_variants`): time to the first counterexample,
   examples needed, total time with shrinking, and the shrunk trace's length.

    python benchmarks/bench_check.py [--examples N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

from asfl.properties.audit.broken_variants import VARIANTS
from asfl.properties.judge.suite import PROPERTIES
from asfl.properties.search.runner import check_property, search
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params

DEFAULT = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)
ONE_ROUND = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=1)
# variant -> (params, chaos steps, examples): the plan of tests/properties/test_variants.py
PLAN = {
    "mask-degree-T": (ONE_ROUND, 60, 30),
    "no-write-once": (ONE_ROUND, 200, 60),
    "constant-sharing": (ONE_ROUND, 60, 30),
    "share-sum-at-once": (ONE_ROUND, 150, 60),
    "accept-any-model": (ONE_ROUND, 60, 30),
    "wait-all-members": (ONE_ROUND, 60, 30),
    "no-quota": (DEFAULT, 60, 30),
    "noise-for-cluster-size": (ONE_ROUND, 60, 30),
    "small-averaging-quorum": (ONE_ROUND, 200, 60),
    "wait-all-sums": (ONE_ROUND, 60, 30),
}


def throughput(examples: int) -> dict:
    start = time.perf_counter()
    outcomes = search(SearchSetup(DEFAULT), PROPERTIES, max_examples=examples)
    elapsed = time.perf_counter() - start
    first = next(iter(outcomes.values()))
    runs = max(o.examples for o in outcomes.values())  # P1-P8 are judged on every run of both passes
    rows = [
        {"property": p, "held": o.held, "judged": o.examples, "exercised": o.exercised}
        for p, o in outcomes.items()
    ]
    return {
        "runs": runs,
        "steps": first.steps,
        "seconds": round(elapsed, 2),
        "runs_per_second": round(runs / elapsed, 2),
        "steps_per_second": round(first.steps / elapsed),
        "bare_steps_per_second": round(bare_step_rate(examples)),
        "rows": rows,
    }


def bare_step_rate(examples: int) -> float:
    """Steps per second of the spec alone: a FIFO run of the default configuration replayed."""
    from asfl.properties.domains.symbolic import SymbolicDomain
    from asfl.properties.search.runs import replay_events
    from asfl.spec.world import enabled, finished, initial_world, step

    world = initial_world(DEFAULT, SymbolicDomain(DEFAULT), (3,))
    events = []
    while not finished(world) and len(events) < 5000:
        options = enabled(world)
        if not options:
            break
        event = next((e for e in options if type(e).__name__ == "Deliver"), options[0])
        world = step(world, event)
        events.append(event)
    start = time.perf_counter()
    replays = max(1, examples // 4)
    for _ in range(replays):
        replay_events(SearchSetup(DEFAULT), (3,), events)
    return replays * len(events) / (time.perf_counter() - start)


def variants() -> list[dict]:
    rows = []
    for name, (params, chaos, examples) in PLAN.items():
        v = VARIANTS[name]
        setup = SearchSetup(params, v.rules, adversaries=v.adversaries, max_chaos=chaos, swarm=False)
        out = check_property(v.breaks, setup, max_examples=examples)
        rows.append(
            {
                "variant": name,
                "breaks": v.breaks,
                "caught": not out.held,
                "first_counterexample_seconds": round(
                    out.extra.get("first_failure_seconds", float("nan")), 2
                ),
                "examples_to_first": out.extra.get("examples_to_first_failure"),
                "total_seconds": round(out.seconds + out.extra.get("shrink_seconds", 0.0), 2),
                "trace_length": len(out.trace.events) if out.trace else None,
                "chaos_steps": out.trace.extra.get("chaos_steps") if out.trace else None,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=40, help="runs of the throughput search (per pass)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {"throughput": throughput(args.examples), "variants": variants()}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    t = report["throughput"]
    print(
        f"default configuration, one search of P1-P9, ci profile: {t['runs']} runs, {t['steps']} steps "
        f"in {t['seconds']}s = {t['runs_per_second']} runs/s, {t['steps_per_second']} steps/s "
        f"(the bare spec step: {t['bare_steps_per_second']} steps/s)"
    )
    for r in t["rows"]:
        print(
            f"  {r['property']}: {'held' if r['held'] else 'VIOLATED'} "
            f"judged on {r['judged']} runs, exercised by {r['exercised']}"
        )
    print("broken variants: time to first counterexample, examples, total with shrinking, trace length")
    for r in report["variants"]:
        print(
            f"  {r['variant']:24} {r['breaks']} caught={r['caught']} "
            f"first={r['first_counterexample_seconds']}s "
            f"after {r['examples_to_first']} examples, total={r['total_seconds']}s, "
            f"trace={r['trace_length']} steps (chaos {r['chaos_steps']})"
        )


if __name__ == "__main__":
    main()
