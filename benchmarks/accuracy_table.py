"""The accuracy / privacy table of docs/reference.md: every baseline, IID and label skew.

For each (partition, epsilon): final test accuracy of plain FedAvg, central-DP FedAvg, ASFL (with
t_a Byzantine aggregators running each shipped strategy: the accuracy must not move) and ASFL
without the inclusion mechanism, plus the spread of the correct clients' exact epsilons.
Prints a markdown table. A few minutes on one core.

    python benchmarks/accuracy_table.py [epsilon ...] [--seed=N] [--n-c=N] [--quota=Q] [--rounds=R]
        [--silent-only] [--server-step=constant]

(default epsilons 4 8 16; `--n-c`, `--quota` and `--rounds` override the experiment defaults, e.g.
the cross-device configuration of the README, `--n-c=1000 --quota=4`, and its longer horizons in
docs/reference.md, `--rounds=15`; `--silent-only` skips the Byzantine-strategy columns, which repeat
the silent figures, to save three runs per row; `--server-step=constant` runs ASFL with the step
of the tables before 2026-12-06, eta in every round)
"""

from __future__ import annotations

import sys
from dataclasses import replace

from asfl.reference.experiment import NO_INCLUSION, TrainConfig, run_asfl, run_fedavg, setup
from asfl.spec.rules import STANDARD

BASE = TrainConfig()  # the experiment defaults: n_c=100, n_a=4, t_a=1, R=10, Q default, C=0.5, eta=2


def main(
    epsilons: list[float], seed: int = 0, overrides: dict | None = None, silent_only: bool = False
) -> None:
    base = replace(BASE, seed=seed, **(overrides or {}))
    q = setup(base).params.Q
    print(
        f"digits, softmax (d=650), n_c={base.n_c}, n_a={base.n_a}, t_a={base.t_a}, R={base.rounds}, "
        f"Q={q}, C={base.clip}, lr={base.lr}, {base.epochs} local epochs, eta={base.eta} "
        f"({base.server_step} step), "
        f"delta={base.delta}, lognormal speeds (sigma {base.speed_spread}), seed {seed}\n"
    )
    print(
        "| partition | epsilon | FedAvg | central DP | ASFL silent (peak @ round) | gap (points) "
        "| ASFL wrong-share-sums | ASFL forged-model | ASFL no inclusion | eps spread ASFL "
        "| eps spread no incl. | max eps no incl. |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for partition in ("iid", "dirichlet"):
        for eps in epsilons:
            s = setup(replace(base, partition=partition, epsilon=eps))
            plain, central = run_fedavg(s, False), run_fedavg(s, True)
            asfl = {
                name: run_asfl(s, STANDARD, strategy=name)
                for name in (("silent",) if silent_only else ("silent", "wrong-share-sums", "forged-model"))
            }
            asfl.setdefault("wrong-share-sums", asfl["silent"])
            asfl.setdefault("forged-model", asfl["silent"])
            same = all(r.extra["des"].accepted == asfl["silent"].extra["des"].accepted for r in asfl.values())
            none = run_asfl(s, NO_INCLUSION)
            peak = max(asfl["silent"].curve, key=lambda p: p[2])
            print(
                f"| {partition} | {eps:g} | {plain.accuracy:.3f} | {central.accuracy:.3f} | "
                f"{asfl['silent'].accuracy:.3f} ({peak[2]:.3f} @ {peak[1]}) | "
                f"{100 * (central.accuracy - asfl['silent'].accuracy):+.1f} | "
                f"{asfl['wrong-share-sums'].accuracy:.3f} | "
                f"{asfl['forged-model'].accuracy:.3f}{'' if same else ' (DIFFERS)'} | {none.accuracy:.3f} | "
                f"{asfl['silent'].epsilon_spread():.1%} | {none.epsilon_spread():.1%} | "
                f"{max(none.epsilons().values()):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    flags = {a.split("=")[0]: a.split("=")[1] if "=" in a else "" for a in sys.argv[1:] if a.startswith("--")}
    names = (("--n-c", "n_c"), ("--quota", "quota"), ("--rounds", "rounds"))
    overrides: dict = {k: int(flags[f]) for f, k in names if f in flags}
    if "--server-step" in flags:
        overrides["server_step"] = flags["--server-step"]
    main(
        [float(a) for a in sys.argv[1:] if not a.startswith("--")] or [4.0, 8.0, 16.0],
        int(flags.get("--seed", 0)),
        overrides,
        "--silent-only" in flags,
    )
