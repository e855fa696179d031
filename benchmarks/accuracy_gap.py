"""How far ASFL's accuracy is from central-DP FedAvg at the same (epsilon, delta), and why.

Sub-commands (each prints a markdown table; figures only, nothing is asserted):

  tune    one shared hyper-parameter grid (clip C, client lr, local epochs, server eta), run
          identically for central DP and ASFL at epsilon 8, IID and label skew, n_c=100
  grid    the gap at epsilon 4/8/16 against the quota (5 vs the Params default), n_c, and the
          Byzantine aggregator (silent, wrong-share-sums, none present, t_a=0)
  seeds   the headline configuration over several seeds (mean and spread of the gap)

Next to each row: the analytic ratio of the noise std in the averaged update, ASFL over central,
    ratio = sqrt(k_used) * z / sum|S|  /  (z_c / n_c)
with k_used = n_a - t_a clusters of |S| >= m clients each (the averaging quorum), z calibrated for
Q releases and z_c for R.

    python benchmarks/accuracy_gap.py tune|grid|seeds [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time
from dataclasses import asdict, replace
from multiprocessing import Pool

from asfl.reference.experiment import SERVER_STEPS, TrainConfig, run_asfl, run_fedavg, setup

#: The representative configuration (README): the experiment defaults.
HEAD = TrainConfig()
EPSILONS = (4.0, 8.0, 16.0)
PARTITIONS = ("iid", "dirichlet")


def noise_ratio(cfg: TrainConfig) -> float:
    """Analytic std of the noise in one averaged update, ASFL over central DP (module docstring)."""
    s = setup(cfg)
    p = s.params
    k_used = p.n_a - p.t_a
    members = k_used * p.m  # a set is fixed once m members contributed: |S| is m or a little more
    return (math.sqrt(k_used) * s.z / members) / (s.z_central / cfg.n_c)


def data_fraction(cfg: TrainConfig) -> float:
    """About what share of the averaged contributions carry data: a client makes about R*m/k
    contributions, Q of which carry data (I2). (Those sent to a silent Byzantine coordinator are
    lost, data and noise-only alike, so the share among the averaged ones is the same.)"""
    p = setup(cfg).params
    made = cfg.rounds * p.m / max(p.k)
    return min(1.0, p.Q / made)


def _run(job: tuple[str, dict]) -> tuple[str, dict, float, float]:
    method, kw = job
    cfg = TrainConfig(**kw)
    t = time.time()
    s = setup(cfg)
    if method == "central-dp-equivalent":
        # central DP whose noise std, relative to the signal, is ASFL's: z_c * ratio / data fraction
        s = replace(s, z_central=s.z_central * noise_ratio(cfg) / data_fraction(cfg))
        acc = run_fedavg(s, True).accuracy
    elif method == "central-dp":
        acc = run_fedavg(s, True).accuracy
    elif method == "fedavg":
        acc = run_fedavg(s, False).accuracy
    else:
        acc = run_asfl(s).accuracy
    return method, kw, acc, time.time() - t


def run_all(jobs: list[tuple[str, TrainConfig]], n_jobs: int) -> dict[tuple[str, tuple], float]:
    items = [(m, asdict(c)) for m, c in jobs]
    out: dict[tuple[str, tuple], float] = {}
    with Pool(n_jobs) as pool:
        for method, kw, acc, _ in pool.imap_unordered(_run, items):
            out[(method, tuple(sorted(kw.items())))] = acc
    return out


def key(method: str, cfg: TrainConfig) -> tuple[str, tuple]:
    return method, tuple(sorted(asdict(cfg).items()))


TUNE_GRID = {"clip": (0.5, 1.0, 2.0, 4.0), "lr": (0.05, 0.2, 0.5), "epochs": (1, 5), "eta": (1.0, 2.0)}


def parse_grid(text: str) -> dict[str, tuple]:
    """'clip=0.25,0.5;epochs=5' -> {"clip": (0.25, 0.5), "epochs": (5,)}; other keys from TUNE_GRID."""
    grid = dict(TUNE_GRID)
    for part in filter(None, text.split(";")):
        name, values = part.split("=")
        cast = int if name == "epochs" else float
        grid[name] = tuple(cast(v) for v in values.split(","))
    return grid


def tune(n_jobs: int, grid: dict[str, tuple]) -> None:
    names = list(grid)
    combos = list(itertools.product(*grid.values()))
    cfgs = [
        replace(HEAD, partition=p, epsilon=8.0, **dict(zip(names, v, strict=True)))
        for p in PARTITIONS
        for v in combos
    ]
    res = run_all([(m, c) for c in cfgs for m in ("central-dp", "asfl")], n_jobs)
    print(f"shared grid {grid}, epsilon 8, n_c={HEAD.n_c}, Q default, t_a=1 silent\n")
    print("| partition | clip | lr | epochs | eta | central DP | ASFL | gap |")
    print("|---|---|---|---|---|---|---|---|")
    for p in PARTITIONS:
        rows = [c for c in cfgs if c.partition == p]
        for c in sorted(rows, key=lambda c: -res[key("central-dp", c)]):
            cd, a = res[key("central-dp", c)], res[key("asfl", c)]
            print(
                f"| {p} | {c.clip:g} | {c.lr:g} | {c.epochs} | {c.eta:g} | {cd:.3f} | {a:.3f} | "
                f"{cd - a:+.3f} |"
            )
        best_c = max(rows, key=lambda c: res[key("central-dp", c)])
        best_a = max(rows, key=lambda c: res[key("asfl", c)])
        print(
            f"\n{p}: central DP best {res[key('central-dp', best_c)]:.3f} at clip={best_c.clip:g} "
            f"lr={best_c.lr:g} epochs={best_c.epochs} eta={best_c.eta:g}; ASFL best "
            f"{res[key('asfl', best_a)]:.3f} at clip={best_a.clip:g} lr={best_a.lr:g} "
            f"epochs={best_a.epochs} eta={best_a.eta:g}\n"
        )


GRID_METHODS = ("central-dp", "asfl", "central-dp-equivalent")
VARIANTS: dict[str, dict] = {
    "Q=5": {"quota": 5},
    "head": {},  # Q default, t_a=1 silent, n_c=100
    "wrong-share-sums": {"byzantine": "wrong-share-sums"},
    "none-present": {"byzantine": "none"},
    "t_a=0": {"t_a": 0},
    "n_c=250": {"n_c": 250},
    "n_c=250,Q=5": {"n_c": 250, "quota": 5},
    "n_c=500": {"n_c": 500},
    "n_c=1000": {"n_c": 1000},
}


def grid(n_jobs: int, variants: list[str], model: str, methods: tuple[str, ...] = GRID_METHODS) -> None:
    cfgs = {
        (v, p, e): replace(HEAD, model=model, partition=p, epsilon=e, **VARIANTS[v])
        for v in variants
        for p in PARTITIONS
        for e in EPSILONS
    }
    # the noise-free reference per (variant's n_c, partition): plain FedAvg and ASFL at z = 0 is
    # not a protocol run, so plain FedAvg stands for it
    res = run_all([(m, c) for c in cfgs.values() for m in methods], n_jobs)
    print(f"digits, {model}; base {replace(HEAD, model=model)}\n")
    print(
        "| variant | partition | epsilon | Q | z | z_c | noise ratio | data fraction | central DP | ASFL "
        "| gap (points) | central DP at ASFL's noise |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (v, p, e), c in cfgs.items():
        s = setup(c)
        cd, a, eq = (res.get(key(m, c), math.nan) for m in GRID_METHODS)
        print(
            f"| {v} | {p} | {e:g} | {s.params.Q} | {s.z:.2f} | {s.z_central:.2f} | {noise_ratio(c):.2f} | "
            f"{data_fraction(c):.2f} | {cd:.3f} | {a:.3f} | {100 * (cd - a):+.1f} | {eq:.3f} |",
            flush=True,
        )


def seeds(n_jobs: int, n_seeds: int, model: str, n_c: int) -> None:
    head = replace(HEAD, model=model, n_c=n_c)
    cfgs = {
        (p, e, sd): replace(head, partition=p, epsilon=e, seed=sd)
        for p in PARTITIONS
        for e in EPSILONS
        for sd in range(n_seeds)
    }
    res = run_all([(m, c) for c in cfgs.values() for m in ("central-dp", "asfl")], n_jobs)
    print(f"digits, {model}, seeds 0..{n_seeds - 1}; base {head}\n")
    print("| partition | epsilon | central DP (mean ± sd) | ASFL (mean ± sd) | gap mean | gap min..max |")
    print("|---|---|---|---|---|---|")
    for p in PARTITIONS:
        for e in EPSILONS:
            cs = [res[key("central-dp", cfgs[(p, e, sd)])] for sd in range(n_seeds)]
            aa = [res[key("asfl", cfgs[(p, e, sd)])] for sd in range(n_seeds)]
            gaps = [100 * (x - y) for x, y in zip(cs, aa, strict=True)]
            print(
                f"| {p} | {e:g} | {statistics.mean(cs):.3f} ± {statistics.stdev(cs):.3f} | "
                f"{statistics.mean(aa):.3f} ± {statistics.stdev(aa):.3f} | {statistics.mean(gaps):+.1f} | "
                f"{min(gaps):+.1f}..{max(gaps):+.1f} |",
                flush=True,
            )


def main() -> None:
    global HEAD
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("tune", "grid", "seeds"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--model", default="softmax")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-c", type=int, default=HEAD.n_c, help="seeds: number of clients")
    ap.add_argument("--methods", default=",".join(GRID_METHODS), help="grid: which columns to run")
    ap.add_argument("--grid", default="", help="tune: override grid axes, e.g. 'clip=0.25,0.5;eta=1'")
    ap.add_argument(
        "--server-step",
        choices=SERVER_STEPS,
        default=HEAD.server_step,
        help="ASFL's server step per round (constant: the step of the tables before 2026-12-06)",
    )
    ap.add_argument(
        "--variants",
        default=";".join(v for v in VARIANTS if v not in ("n_c=500", "n_c=1000")),
        help="';'-separated",
    )
    args = ap.parse_args()
    HEAD = replace(HEAD, server_step=args.server_step)
    if args.what == "tune":
        tune(args.jobs, parse_grid(args.grid))
    elif args.what == "grid":
        grid(args.jobs, args.variants.split(";"), args.model, tuple(args.methods.split(",")))
    else:
        seeds(args.jobs, args.seeds, args.model, args.n_c)


if __name__ == "__main__":
    main()
