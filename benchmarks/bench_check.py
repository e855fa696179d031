"""Benchmark of `asfl check` (never run by the test command).

1. Throughput on the default configuration (n_c=8, t_c=1, n_a=4, t_a=1, R=3), every property, the
   `ci` profile: examples per second and protocol steps per second.
2. For each broken variant (`asfl.properties.variants`): time to the first counterexample, examples
   needed, total time with shrinking, and the shrunk trace's length.

    python benchmarks/bench_check.py [--examples N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

from asfl.properties.checks import PROPERTIES
from asfl.properties.explore import Setup
from asfl.properties.runner import check_property
from asfl.properties.variants import VARIANTS
from asfl.spec import Params

DEFAULT = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
ONE_ROUND = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=1)
# variant -> (params, chaos steps, examples): the plan of tests/properties/test_variants.py
PLAN = {
    "mask-degree-T": (ONE_ROUND, 60, 30),
    "endorse-twice": (ONE_ROUND, 200, 60),
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
    rows = []
    total_examples = total_steps = 0
    start = time.perf_counter()
    for prop in PROPERTIES:
        out = check_property(prop, Setup(DEFAULT), max_examples=examples)
        rows.append(
            {
                "property": prop,
                "held": out.held,
                "examples": out.examples,
                "steps": out.steps,
                "seconds": round(out.seconds, 2),
            }
        )
        total_examples += out.examples
        total_steps += out.steps
    elapsed = time.perf_counter() - start
    return {
        "examples": total_examples,
        "steps": total_steps,
        "seconds": round(elapsed, 2),
        "examples_per_second": round(total_examples / elapsed, 2),
        "steps_per_second": round(total_steps / elapsed),
        "rows": rows,
    }


def variants() -> list[dict]:
    rows = []
    for name, (params, chaos, examples) in PLAN.items():
        v = VARIANTS[name]
        setup = Setup(params, v.rules, adversaries=v.adversaries, max_chaos=chaos, swarm=False)
        out = check_property(v.breaks, setup, max_examples=examples, shrink_budget=10.0)
        rows.append(
            {
                "variant": name,
                "breaks": v.breaks,
                "caught": not out.held,
                "first_counterexample_seconds": round(
                    out.extra.get("first_failure_seconds", float("nan")), 2
                ),
                "examples_to_first": out.extra.get("examples_to_first_failure"),
                "total_seconds": round(out.seconds, 2),
                "trace_length": len(out.trace.events) if out.trace else None,
                "chaos_steps": out.trace.extra.get("chaos_steps") if out.trace else None,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=20, help="examples per property for the throughput run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {"throughput": throughput(args.examples), "variants": variants()}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    t = report["throughput"]
    print(
        f"default configuration, all properties, ci profile: {t['examples']} examples, {t['steps']} steps "
        f"in {t['seconds']}s = {t['examples_per_second']} examples/s, {t['steps_per_second']} steps/s"
    )
    for r in t["rows"]:
        print(
            f"  {r['property']}: {'held' if r['held'] else 'VIOLATED'} "
            f"{r['examples']} examples {r['seconds']}s"
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
