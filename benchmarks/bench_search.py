"""Search power: the time to find a broken quorum condition (Q2) at two sizes, printed, never asserted.

python benchmarks/bench_search.py [--seeds 0,1,2,3,4] [--max-examples 2000]
                                  [--old PYTHON --old-timeout 300]

Q2 (set uniqueness) is broken on purpose, T below (n_a + t_a) / 2:
  n_a=4  asfl check --n-c 12 --t-c 1 --n-a 4 --t-a 1 --threshold 2 --m 2 --allow-unsafe --properties P2
  n_a=7  asfl check --n-c 35 --t-c 2 --n-a 7 --t-a 2 --threshold 4 --m 3 --allow-unsafe --properties P2
`asfl quorum` refutes both thresholds in milliseconds; this measures how fast the search shows a
user the run. For each size and seed it prints the time to the first counterexample, the time to
the minimised trace, and the trace's length, then the medians.

`--old PYTHON` runs the same searches with another engine, side by side in one run: PYTHON is an
interpreter that imports that engine's `asfl` (for example a venv with an older commit installed,
from a `git worktree`); each of its searches is stopped after `--old-timeout` seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

from asfl.properties.search.runner import search
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params

SIZES = {
    "n_a=4": dict(n_c=12, t_c=1, n_a=4, t_a=1, R=4, T=2, m=2),
    "n_a=7": dict(n_c=35, t_c=2, n_a=7, t_a=2, R=4, T=4, m=3),
}

_OLD = """
import json, sys, time
from asfl.spec import Params
from asfl.properties.search.runs import SearchSetup
from asfl.properties.search.runner import check_property
params = Params(**json.loads(sys.argv[1]), allow_unsafe=True)
t = time.perf_counter()
o = check_property("P2", SearchSetup(params), max_examples=int(sys.argv[3]), seed_value=int(sys.argv[2]))
print(json.dumps({"held": o.held, "first": o.extra.get("first_failure_seconds"),
                  "total": time.perf_counter() - t, "steps": len(o.trace.events) if o.trace else None}))
"""


def new_engine(size: dict, seed: int, max_examples: int) -> dict:
    params = Params(**size, allow_unsafe=True)
    t = time.perf_counter()
    o = search(SearchSetup(params), ["P2"], max_examples=max_examples, seed_value=seed)["P2"]
    return {
        "held": o.held,
        "first": o.extra.get("first_failure_seconds"),
        "total": time.perf_counter() - t,
        "steps": len(o.trace.events) if o.trace else None,
    }


def old_engine(python: str, size: dict, seed: int, max_examples: int, timeout: float) -> dict:
    try:
        done = subprocess.run(
            [python, "-c", _OLD, json.dumps(size), str(seed), str(max_examples)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )
    except subprocess.TimeoutExpired:
        return {"held": True, "first": None, "total": timeout, "steps": None, "timeout": True}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--max-examples", type=int, default=2000)
    ap.add_argument("--old", default=None, help="an interpreter that imports the engine to compare with")
    ap.add_argument("--old-timeout", type=float, default=300.0)
    ap.add_argument("--sizes", default=",".join(SIZES))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    engines = ["new"] + (["old"] if args.old else [])
    print(
        f"{'size':6} {'engine':6} {'seed':>4} {'found':>5} {'s to first':>10} {'s to trace':>10} {'steps':>6}"
    )
    for name in args.sizes.split(","):
        size = SIZES[name]
        firsts: dict[str, list[float]] = {e: [] for e in engines}
        for engine in engines:
            for s in seeds:
                if engine == "new":
                    r = new_engine(size, s, args.max_examples)
                else:
                    r = old_engine(args.old, size, s, args.max_examples, args.old_timeout)
                # a search that found nothing counts as its whole time (a lower bound)
                firsts[engine].append(r["first"] if r["first"] is not None else r["total"])
                found = "no" if r["held"] else "yes"
                timeout = " (stopped)" if r.get("timeout") else ""
                print(
                    f"{name:6} {engine:6} {s:>4} {found:>5} {_fmt(r['first']):>10} "
                    f"{_fmt(r['total']):>10} {r['steps'] or '-':>6}{timeout}",
                    flush=True,
                )
        medians = {e: statistics.median(v) for e, v in firsts.items()}
        line = ", ".join(f"{e} {m:.1f} s" for e, m in medians.items())
        if "old" in medians:
            line += (
                f"; speed-up {medians['old'] / max(medians['new'], 1e-9):.0f}x (at least, where old stopped)"
            )
        print(f"{name}: median time to the first counterexample: {line}")


if __name__ == "__main__":
    main()
