"""Distinct states per second of the exhaustive explorer, with and without its reductions.

Run:  python benchmarks/bench_explorer.py [--max-states N] [--json]

Each configuration is explored twice: with the reductions (message-id symmetry, eager coalition
delivery, stale drop) and without them (message ids kept, every delivery a separate move). Both
runs stop at the same state budget, so "states/s" compares throughput and "states" (when the run
completed) compares the size of the graph. Never run by the test command.
"""

from __future__ import annotations

import argparse
import json
import time

from asfl.properties.exhaustive.explorer import explore
from asfl.spec import Params

CONFIGS = [
    ("pair-crash R=1", Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1), {}),
    ("pair-crash R=2", Params(n_c=2, t_c=1, n_a=1, t_a=0, R=2, d=1), {}),
    ("duo n_a=2 R=1", Params(n_c=2, t_c=0, n_a=2, t_a=0, R=1, d=1), {}),
    (
        "byz4 equivocate focus",
        Params(n_c=5, t_c=0, n_a=4, t_a=1, R=1, d=1),
        {"byzantine": [3], "menu": "equivocate", "focus": [3, 4]},
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-states", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, params, options in CONFIGS:
        for reduce in (True, False):
            start = time.perf_counter()
            result = explore(params, reduce=reduce, max_states=args.max_states, **options)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "config": name,
                    "reduce": reduce,
                    "states": result.states,
                    "transitions": result.transitions,
                    "depth": result.depth,
                    "complete": result.complete,
                    "seconds": round(seconds, 2),
                    "states_per_second": round(result.states / seconds, 1),
                }
            )
            if not args.json:
                r = rows[-1]
                print(
                    f"{name:24} reduce={str(reduce):5} states={r['states']:>7} "
                    f"transitions={r['transitions']:>8} depth={r['depth']:>3} "
                    f"complete={str(r['complete']):5} {r['seconds']:>7.2f} s "
                    f"{r['states_per_second']:>8.1f} states/s",
                    flush=True,
                )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
