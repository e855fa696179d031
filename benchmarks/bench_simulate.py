"""Events per second of the random simulator (spec + concrete field domain), printed, never asserted.

python benchmarks/bench_simulate.py [--seeds N]
"""

from __future__ import annotations

import argparse
import time

from asfl.reference.simulator import simulate
from asfl.spec import Params

CONFIGS = {
    "n_c=8 t_c=1 n_a=4 t_a=1 R=3": Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3),
    "n_c=100 t_c=1 n_a=10 t_a=3 R=3": Params(n_c=100, t_c=1, n_a=10, t_a=3, R=3),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    print(f"{'configuration':34} {'runs':>5} {'events':>9} {'seconds':>8} {'events/s':>9}")
    for name, params in CONFIGS.items():
        seeds = args.seeds if params.n_c <= 10 else max(1, args.seeds // 5)
        events, t0 = 0, time.perf_counter()
        for seed in range(seeds):
            res = simulate(params, seed, "random")
            assert res.finished
            events += res.steps
        dt = time.perf_counter() - t0
        print(f"{name:34} {seeds:>5} {events:>9} {dt:>8.2f} {events / dt:>9.0f}")


if __name__ == "__main__":
    main()
