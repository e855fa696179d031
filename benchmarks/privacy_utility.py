"""Merge `asfl train --compare --epsilons ... --out DIR` grids into the privacy-utility figure and tables.

Each DIR holds a results.json (one partition; any seeds and epsilons). Prints, per partition, the
final accuracy of every method per epsilon (mean over seeds, min..max), ASFL's gap to the
per-cluster baseline and paced ASFL's gap to central DP (points, per seed), the noise price
(predicted and measured std of an averaged update as a multiple of central DP's), and the
balance (stragglers, epsilon spread over the others, and without the inclusion mechanism); then
the README's summary table over every partition (mean over seeds, gap range, cells within 2 points).
Writes one PNG per partition with `--png-prefix`. Figures only, nothing is asserted.

    asfl train --compare --n-c 1000 --quota 4 --partition iid --epsilons 2 4 8 16 --seeds 0 \\
        --method-eta fedavg=32,central-dp=32,per-cluster-dp=32,asfl=32,asfl-paced=24,asfl-no-inclusion=32 \\
        --out runs/iid-s0
    python benchmarks/privacy_utility.py runs/iid-s0 runs/dirichlet-s0 --png-prefix docs/privacy_utility
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from asfl.reference import plots
from asfl.reference.atomic import write_atomic

METHODS = ("fedavg", "central-dp", "per-cluster-dp", "asfl", "asfl-paced", "asfl-no-inclusion")


def load(dirs: list[Path]) -> dict[str, list[dict]]:
    """partition -> every (epsilon, seed) cell of every grid given."""
    cells: dict[str, list[dict]] = defaultdict(list)
    for d in dirs:
        doc = json.loads((d / "results.json").read_text())
        for cell in doc["grid"]:
            cells[doc["config"]["partition"]].append(cell)
    return cells


def overspend(cells: list[dict], method: str) -> float:
    """The largest ratio of a correct client's epsilon to the target, over every cell."""
    return max(
        max(v for v in r["epsilon"].values() if v is not None) / c["epsilon"]
        for c in cells
        for r in c["runs"]
        if r["method"] == method
    )


def report(partition: str, cells: list[dict]) -> dict[str, dict[float, list[float]]]:
    acc: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_cell = {}
    for cell in cells:
        runs = {r["method"]: r for r in cell["runs"]}
        by_cell[(cell["epsilon"], cell["seed"])] = runs
        for m, r in runs.items():
            acc[m][cell["epsilon"]].append(r["final_accuracy"])
    epsilons = sorted({e for e, _ in by_cell})
    seeds = sorted({s for _, s in by_cell})
    print(f"\n## {partition} (seeds {', '.join(map(str, seeds))})\n")
    print("| method | " + " | ".join(f"eps {e:g}" for e in epsilons) + " |")
    print("|---|" + "---|" * len(epsilons))
    for m in METHODS:
        if m not in acc:
            continue
        row = []
        for e in epsilons:
            v = acc[m][e]
            row.append(f"{statistics.mean(v):.3f}" + (f" ({min(v):.3f}..{max(v):.3f})" if len(v) > 1 else ""))
        print(f"| {m} | " + " | ".join(row) + " |")
    print("\n| epsilon | seed | ASFL gap to per-cluster | paced gap to per-cluster | paced gap to central DP "
          "| std /central pred. (meas.) ASFL | per-cluster | noise/signal /central ASFL |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for (e, s), runs in sorted(by_cell.items()):
        pc, cd = runs["per-cluster-dp"], runs["central-dp"]
        a, p = runs["asfl"], runs["asfl-paced"]
        n, nc, npc = a["noise"], cd["noise"], pc["noise"]

        def ratio(x: dict, nc: dict = nc) -> str:
            pred, meas = x["predicted_std"] / nc["predicted_std"], x["measured_std"] / nc["measured_std"]
            return f"{pred:.2f} ({meas:.2f})"

        print(
            f"| {e:g} | {s} | {100 * (pc['final_accuracy'] - a['final_accuracy']):+.1f} | "
            f"{100 * (pc['final_accuracy'] - p['final_accuracy']):+.1f} | "
            f"{100 * (cd['final_accuracy'] - p['final_accuracy']):+.1f} | "
            f"{ratio(n)} | {ratio(npc)} | "
            f"{n['measured_std'] / nc['measured_std'] / n['data_fraction_measured']:.2f} |"
        )
    print("\n| seed | stragglers (ASFL) | spread ASFL over the others (all) | paced "
          "| no inclusion (max eps) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for s in seeds:
        runs = by_cell[(epsilons[-1], s)]

        def spread(r: dict) -> str:
            others = r["epsilon_spread_non_stragglers"]
            allc = r["epsilon_spread"]
            return f"{(allc if others is None else others):.1%} ({allc:.1%})"

        ni = runs["asfl-no-inclusion"]
        print(
            f"| {s} | {runs['asfl']['stragglers'] or 'none'} | {spread(runs['asfl'])} | "
            f"{spread(runs['asfl-paced'])} | {spread(ni)} ({max(v for v in ni['epsilon'].values() if v):.2f} "
            f"at target {epsilons[-1]:g}) |"
        )
    return acc


def _gap(gaps: list[float]) -> str:
    """Mean gap in points, its range over seeds, and how many cells are within 2 points."""
    text = f"{statistics.mean(gaps):+.1f}"
    if len(gaps) > 1:
        text += f" ({min(gaps):+.1f}..{max(gaps):+.1f})"
    # accuracies are multiples of 1/450 (digits' test split): 2 points is 9 samples, exact up to float
    return text + f" [{sum(g <= 2.0 + 1e-9 for g in gaps)}/{len(gaps)} within 2]"


def summary(all_cells: dict[str, list[dict]]) -> None:
    """The README's table: per partition and epsilon, the mean final accuracy of central DP, the
    per-cluster baseline, ASFL and paced ASFL, and the two gaps of issue 16 (points)."""
    print(
        "\n| partition (seeds) | epsilon | central DP | per-cluster DP | ASFL | ASFL gap to per-cluster "
        "| paced ASFL | paced gap to central DP |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for partition, cells in all_cells.items():
        for eps in sorted({c["epsilon"] for c in cells}):
            at = [c for c in cells if c["epsilon"] == eps]
            runs = [{r["method"]: r["final_accuracy"] for r in c["runs"]} for c in at]

            def mean(m: str, runs: list[dict] = runs) -> str:
                return f"{statistics.mean(r[m] for r in runs):.3f}"

            asfl_gap = [100 * (r["per-cluster-dp"] - r["asfl"]) for r in runs]
            paced_gap = [100 * (r["central-dp"] - r["asfl-paced"]) for r in runs]
            print(
                f"| {partition} ({len(runs)}) | {eps:g} | {mean('central-dp')} | {mean('per-cluster-dp')} | "
                f"{mean('asfl')} | {_gap(asfl_gap)} | {mean('asfl-paced')} | {_gap(paced_gap)} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--png-prefix", type=Path, default=None, help="write PREFIX-PARTITION.png")
    args = ap.parse_args()
    all_cells = load(args.dirs)
    for partition, cells in all_cells.items():
        acc = report(partition, cells)
        if args.png_prefix is not None:
            seeds = sorted({c["seed"] for c in cells})
            title = f"digits, n_c=1000, {partition}, seed{'s' if len(seeds) > 1 else ''} "
            title += ", ".join(map(str, seeds))
            per_eps = defaultdict(set)
            for c in cells:
                per_eps[c["epsilon"]].add(c["seed"])
            partial = [
                f"eps {e:g}: seed {', '.join(map(str, sorted(v)))}"
                for e, v in per_eps.items()
                if v != set(seeds)
            ]
            if partial:
                title += f" ({'; '.join(partial)} only)"
            ratio = overspend(cells, "asfl-no-inclusion")
            labels = {"asfl-no-inclusion": f"asfl-no-inclusion (spends up to {ratio:.1f}x the target)"}
            png = plots.privacy_utility_plot(acc, title, [m for m in METHODS if m in acc], labels)
            path = args.png_prefix.with_name(f"{args.png_prefix.name}-{partition}.png")
            write_atomic(path, png)
            print(f"\nwrote {path}")
    summary(all_cells)


if __name__ == "__main__":
    main()
