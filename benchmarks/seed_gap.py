"""Where ASFL's gap to a baseline comes from on one seed (issue 16, docs/reference.md).

Runs per-cluster DP (or `--baseline central`) and ASFL (or `--method asfl-paced`) in the README's
cross-device configuration at one epsilon, each at its step of the README's grids, for each
`--runs` item `S` (seed S) or `S:T` (seed S's split, partition, initial model, noise and latencies
with seed T's client speeds). Prints each run's final and best accuracy, the stragglers, and for
ASFL per round: the members of the clusters a correct aggregator averaged, the fraction of them
that carry data (I2) and the fraction expected from public parameters with the server step's
factor it gives (`experiment.step_schedule`), their mean staleness (r - the round of the model
they trained on, I3 carry-overs included), and the accuracy of model r+1. A gap that follows the
speeds (S:T behaves like T) is timing (inclusion, contributions per round, stragglers); one that
stays with S is the data, the initial model or the noise draws. A few minutes of CPU per ASFL run.

    python benchmarks/seed_gap.py --runs 1 0 1:0 0:1 --epsilon 4 --partition iid
    python benchmarks/seed_gap.py --runs 1 --epsilon 16 --method asfl-paced --baseline central
    python benchmarks/seed_gap.py --runs 1 --noise-stream 1     # the seed with other noise draws
    python benchmarks/seed_gap.py --runs 1 --server-step constant  # eta in every round (before 12-06)
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace

import numpy as np
from asfl.reference.discrete_gaussian import sample_discrete_gaussian
from asfl.reference.experiment import (
    SERVER_STEPS,
    TrainConfig,
    expected_data_fractions,
    run_asfl,
    run_fedavg,
    setup,
    step_schedule,
)
from asfl.reference.field import encode_int
from asfl.reference.field_domain import Vec
from asfl.reference.training_domain import TrainingDomain
from asfl.spec.rules import PACED, STANDARD

#: the server steps of the README's grids (docs/reference.md, "Cross-device, each method tuned")
ETA = {"per-cluster": 32.0, "central": 32.0, "asfl": 32.0, "asfl-paced": 24.0}


def per_round(res) -> list[tuple[int, int, float, float]]:
    """(round, members averaged per correct aggregator, data fraction, mean staleness) of an ASFL run."""
    world, log = res.extra["des"].world, res.extra["log"]
    rows: dict[int, list[float]] = {}
    for agg in world.aggregators:
        if agg is None or agg.j in world.byzantine:
            continue
        for r, chosen in enumerate(agg.proof):
            members = [c for res_i in chosen for c in res_i.members]
            data = sum(log.with_data[(c, log.r_model[(r, c)])] for c in members)
            stale = sum(r - log.r_model[(r, c)] for c in members)
            acc = rows.setdefault(r, [0, 0, 0, 0])
            acc[0] += 1
            acc[1] += len(members)
            acc[2] += data
            acc[3] += stale
    return [(r, round(v[1] / v[0]), v[2] / v[1], v[3] / v[1]) for r, v in sorted(rows.items())]


def accuracy_by_round(curve) -> dict[int, float]:
    out: dict[int, float] = {}
    for _t, r, acc in curve:
        out[r] = acc  # the last model of a round
    return out


def use_noise_stream(stream: int) -> None:
    """Draw every ASFL client's noise from another stream: SeedSequence([seed, 4, c, r_model, stream])
    instead of [seed, 4, c, r_model] (`TrainingDomain.noise`), the same law; data, speeds, latencies
    and the initial model stay the seed's. Tells a seed's noise draws from the rest of the seed."""

    def noise(self, c: int, r_model: int, variance: float) -> Vec:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 4, c, r_model, stream]))
        e = sample_discrete_gaussian(rng, variance * self.params.scale**2, self.d)
        return Vec(encode_int(e, self.q, self.bound - self.data_bound))

    TrainingDomain.noise = noise  # this process only: a benchmark's variant, never the shipped domain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", default=["1", "0", "1:0", "0:1"])
    ap.add_argument("--epsilon", type=float, default=4.0)
    ap.add_argument("--partition", default="iid")
    ap.add_argument("--method", choices=("asfl", "asfl-paced"), default="asfl")
    ap.add_argument("--baseline", choices=("per-cluster", "central"), default="per-cluster")
    ap.add_argument(
        "--noise-stream",
        type=int,
        default=0,
        help="ASFL's client noise from another stream (0: the run's own); the rest of the run unchanged",
    )
    ap.add_argument("--server-step", choices=SERVER_STEPS, default="data", help="ASFL's step per round")
    args = ap.parse_args()
    if args.noise_stream:
        use_noise_stream(args.noise_stream)
    base = replace(
        TrainConfig(),
        n_c=1000,
        quota=4,
        epsilon=args.epsilon,
        partition=args.partition,
        server_step=args.server_step,
    )
    rules = PACED if args.method == "asfl-paced" else STANDARD
    for item in args.runs:
        seed, _, speeds_of = item.partition(":")
        s = setup(replace(base, seed=int(seed), eta=ETA[args.method]))
        b = setup(replace(base, seed=int(seed), eta=ETA[args.baseline]))
        if speeds_of:
            durations = setup(replace(base, seed=int(speeds_of))).durations
            s, b = replace(s, durations=durations), replace(b, durations=durations)
        pc = run_fedavg(b, private=args.baseline)
        res = run_asfl(s, rules)
        best = max(res.curve, key=lambda p: p[2])
        name = f"seed {seed}" + (f", speeds of seed {speeds_of}" if speeds_of else "")
        name += f", noise stream {args.noise_stream}" if args.noise_stream else ""
        print(f"\n## {name}, {args.partition}, epsilon {args.epsilon:g} (Q={s.params.Q}, z={s.z:.3f})")
        print(
            f"{args.baseline} DP {pc.accuracy:.3f}; {args.method} {res.accuracy:.3f} "
            f"(best {best[2]:.3f} @ round {best[1]}); "
            f"gap {100 * (pc.accuracy - res.accuracy):+.1f} points; stragglers {list(res.stragglers)}; "
            f"data fraction {res.extra['noise'].data_fraction_measured:.3f}; "
            f"releases {dict(sorted(Counter(res.releases.values()).items()))}"
        )
        acc = accuracy_by_round(res.curve)
        pc_acc = accuracy_by_round(pc.curve)
        expected = expected_data_fractions(s.params, rules)
        steps = step_schedule(s.params, rules, args.server_step)
        print(
            "| round | members averaged | data fraction (expected) | step / eta | mean staleness "
            f"| acc. of model r+1 | {args.baseline} DP |"
        )
        print("|---|---|---|---|---|---|---|")
        for r, members, frac, stale in per_round(res):
            print(
                f"| {r} | {members} | {frac:.2f} ({expected[r]:.2f}) | {steps[r]:.3f} | {stale:.2f} "
                f"| {acc.get(r + 1, float('nan')):.3f} | {pc_acc.get(r + 1, float('nan')):.3f} |"
            )
        print(
            f"durations: median {np.median(s.durations):.2f}, "
            f"max/median {s.durations.max() / np.median(s.durations):.0f}"
        )


if __name__ == "__main__":
    main()
