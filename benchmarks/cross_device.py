"""The cross-device configuration (n_c=1000, Q=4, R=10) with each method's server step tuned.

The experiment defaults (C=0.5, lr 0.5, 5 local epochs, eta 2) were tuned at n_c=100, 13 samples
per client. At n_c=1000 a client holds 1-2 samples and its clipped update is small, so every
method wants a larger server step eta. Comparing the methods at eta=2 favoured ASFL: central DP
gains 6 points from a larger eta, ASFL 4. This script tunes eta for each method on its own
(everything else as the experiment defaults) and then compares them at their best:

  tune    eta grid per method at epsilon 8 (--epsilon), seed 0, IID and label skew; the best eta
          is the one with the highest mean accuracy over the two partitions
  table   central DP, ASFL (I2 spends the quota first) and ASFL paced (the spec's `PACED` table:
          the same quota spread over the run) at their tuned eta, epsilon 4/8/16, both
          partitions, several seeds; gap to central DP in points, spread of the exact epsilons

Figures only, nothing is asserted. About 15 minutes (tune) and 25 minutes (table, 3 seeds, R=10)
on one core; `--jobs 2` halves both; R=15 takes half as long again.

    python benchmarks/cross_device.py tune [--epsilon 8] [--methods central-dp,asfl,asfl-paced]
        [--rounds 10] [--jobs 2] [--server-step data|constant]
    python benchmarks/cross_device.py table [--eta central-dp=32,asfl=32,asfl-paced=24] [--seeds 0 1 2]
        [--epsilons 4 8 16] [--rounds 10] [--quota 4] [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from dataclasses import replace
from multiprocessing import Pool

from asfl.reference.experiment import SERVER_STEPS, TrainConfig, run_method, setup

CROSS_DEVICE = TrainConfig(n_c=1000, quota=4)
EPSILONS = (4.0, 8.0, 16.0)
PARTITIONS = ("iid", "dirichlet")
METHODS = ("central-dp", "asfl", "asfl-paced")
ETA_GRID = {
    "central-dp": (2.0, 4.0, 8.0, 16.0, 24.0, 32.0, 48.0, 64.0),
    "asfl": (2.0, 4.0, 8.0, 16.0, 24.0, 32.0),
    "asfl-paced": (2.0, 4.0, 8.0, 16.0, 24.0, 32.0),
}
#: the result of `tune` (seed 0, epsilon 8; docs/reference.md), used by `table` unless --eta is given
TUNED_ETA = {"central-dp": 32.0, "asfl": 32.0, "asfl-paced": 24.0}


def _run(job: tuple[str, TrainConfig]) -> tuple[str, TrainConfig, float, float, float]:
    """(method, config, final test accuracy, spread and max of the correct clients' exact epsilons)."""
    method, cfg = job
    res = run_method(setup(cfg), method)
    eps = res.epsilons().values()
    return method, cfg, res.accuracy, res.epsilon_spread(), max(eps)


def _map(jobs: list, n_jobs: int) -> list:
    if n_jobs <= 1:
        return [_run(j) for j in jobs]
    with Pool(n_jobs) as pool:
        return pool.map(_run, jobs, chunksize=1)


def tune(base: TrainConfig, n_jobs: int, methods: tuple[str, ...] = METHODS, epsilon: float = 8.0) -> None:
    grids = {m: ETA_GRID[m] for m in methods}
    jobs = [
        (method, replace(base, partition=part, epsilon=epsilon, eta=eta))
        for method, grid in grids.items()
        for eta in grid
        for part in PARTITIONS
    ]
    acc = {(m, c.eta, c.partition): a for m, c, a, _, _ in _map(jobs, n_jobs)}
    print(
        f"eta tuning: n_c={base.n_c}, Q={base.quota}, R={base.rounds}, epsilon {epsilon:g}, "
        f"seed {base.seed}\n"
    )
    print("| method | eta | iid | dirichlet | mean |")
    print("|---|---|---|---|---|")
    for method, grid in grids.items():
        means = {eta: statistics.mean(acc[method, eta, p] for p in PARTITIONS) for eta in grid}
        best = max(grid, key=lambda eta: means[eta])
        for eta in grid:
            mark = " (best)" if eta == best else ""
            iid, skew = (acc[method, eta, p] for p in PARTITIONS)
            print(f"| {method} | {eta:g}{mark} | {iid:.3f} | {skew:.3f} | {means[eta]:.3f} |")


def table(
    base: TrainConfig, etas: dict[str, float], seeds: list[int], n_jobs: int, epsilons=EPSILONS
) -> None:
    cells = list(itertools.product(seeds, PARTITIONS, epsilons))
    methods = (*METHODS, "asfl-no-inclusion")
    eta_of = {**etas, "asfl-no-inclusion": etas["asfl"]}  # the same averaging as asfl
    jobs = [
        (m, replace(base, seed=seed, partition=part, epsilon=eps, eta=eta_of[m]))
        for seed, part, eps in cells
        for m in methods
    ]
    out = {(m, c.seed, c.partition, c.epsilon): rest for m, c, *rest in _map(jobs, n_jobs)}
    q = setup(base).params.Q
    print(
        f"n_c={base.n_c}, Q={q}, R={base.rounds}, eta "
        + ", ".join(f"{m} {eta_of[m]:g}" for m in methods)
        + "; final test accuracy, gap = central DP - ASFL in points; spread = (max - min) / max of the"
        " correct clients' exact epsilons\n"
    )
    print(
        "| seed | partition | epsilon | central DP | ASFL | gap | ASFL paced | gap | ASFL no inclusion "
        "| spread ASFL / paced / no incl. (max eps no incl.) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    gaps: dict[str, list[float]] = {"asfl": [], "asfl-paced": []}
    spreads: dict[str, list[float]] = {"asfl": [], "asfl-paced": []}
    for seed, part, eps in cells:
        (cd, _, _), (a, sa, _), (p, sp, _), (n, sn, en) = (out[m, seed, part, eps] for m in methods)
        for m, acc, sprd in (("asfl", a, sa), ("asfl-paced", p, sp)):
            gaps[m].append(100 * (cd - acc))
            spreads[m].append(sprd)
        print(
            f"| {seed} | {part} | {eps:g} | {cd:.3f} | {a:.3f} | {100 * (cd - a):+.1f} | {p:.3f} | "
            f"{100 * (cd - p):+.1f} | {n:.3f} | {sa:.1%} / {sp:.1%} / {sn:.1%} ({en:.2f}) |"
        )
    for m, g in gaps.items():
        print(
            f"\n{m}: gap mean {statistics.mean(g):+.1f}, max {max(g):+.1f}, within 2 points in "
            f"{sum(x <= 2.0 for x in g)} of {len(g)} cells; spread <= 10% in "
            f"{sum(x <= 0.10 for x in spreads[m])} of {len(g)}"
        )


def _etas(text: str) -> dict[str, float]:
    etas = dict(TUNED_ETA)
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        if name not in etas:
            raise SystemExit(f"--eta: unknown method {name!r}; choose among {', '.join(METHODS)}")
        etas[name] = float(value)
    return etas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("tune", "table"))
    ap.add_argument("--eta", default="", help="table: method=eta,... (default: the tuned values)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epsilons", type=float, nargs="+", default=list(EPSILONS), help="table: the epsilons")
    ap.add_argument("--epsilon", type=float, default=8.0, help="tune: the epsilon tuned at")
    ap.add_argument("--rounds", type=int, default=CROSS_DEVICE.rounds)
    ap.add_argument("--quota", type=int, default=CROSS_DEVICE.quota)
    ap.add_argument("--methods", default=",".join(METHODS), help="tune: which methods' grids to run")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument(
        "--server-step",
        choices=SERVER_STEPS,
        default=CROSS_DEVICE.server_step,
        help="ASFL's server step per round (constant: the step of the tables before 2026-12-06)",
    )
    args = ap.parse_args()
    base = replace(CROSS_DEVICE, rounds=args.rounds, quota=args.quota, server_step=args.server_step)
    if args.command == "tune":
        tune(replace(base, seed=args.seeds[0]), args.jobs, tuple(args.methods.split(",")), args.epsilon)
    else:
        table(base, _etas(args.eta), args.seeds, args.jobs, tuple(args.epsilons))


if __name__ == "__main__":
    main()
