"""The accuracy / privacy table of docs/reference.md: every baseline, IID and label skew.

For each (partition, epsilon): final test accuracy of plain FedAvg, central-DP FedAvg, ASFL (with
t_a Byzantine aggregators running each shipped strategy: the accuracy must not move) and ASFL
without the inclusion mechanism, plus the spread of the correct clients' exact epsilons.
Prints a markdown table. A few minutes on one core.

    python benchmarks/accuracy_table.py [epsilon ...]
"""

from __future__ import annotations

import sys
from dataclasses import replace

from asfl.reference.experiment import NO_INCLUSION, TrainConfig, run_asfl, run_fedavg, setup
from asfl.spec.rules import STANDARD

BASE = TrainConfig(n_c=100, n_a=4, t_a=1, t_c=1, rounds=10, quota=5, epochs=5, lr=0.2, clip=2.0, delta=1e-5)


def main(epsilons: list[float]) -> None:
    print(
        f"digits, softmax (d=650), n_c={BASE.n_c}, n_a={BASE.n_a}, t_a={BASE.t_a}, R={BASE.rounds}, "
        f"Q={BASE.quota}, C={BASE.clip}, delta={BASE.delta}, lognormal speeds (sigma {BASE.speed_spread})\n"
    )
    print(
        "| partition | epsilon | FedAvg | central DP | ASFL silent (peak @ round) | ASFL wrong-share-sums "
        "| ASFL forged-model | ASFL no inclusion | eps spread ASFL | eps spread no incl. | max eps no incl. |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for partition in ("iid", "dirichlet"):
        for eps in epsilons:
            s = setup(replace(BASE, partition=partition, epsilon=eps))
            plain, central = run_fedavg(s, False), run_fedavg(s, True)
            asfl = {
                name: run_asfl(s, STANDARD, strategy=name)
                for name in ("silent", "wrong-share-sums", "forged-model")
            }
            same = all(r.extra["des"].accepted == asfl["silent"].extra["des"].accepted for r in asfl.values())
            none = run_asfl(s, NO_INCLUSION)
            peak = max(asfl["silent"].curve, key=lambda p: p[2])
            print(
                f"| {partition} | {eps:g} | {plain.accuracy:.3f} | {central.accuracy:.3f} | "
                f"{asfl['silent'].accuracy:.3f} ({peak[2]:.3f} @ {peak[1]}) | "
                f"{asfl['wrong-share-sums'].accuracy:.3f} | "
                f"{asfl['forged-model'].accuracy:.3f}{'' if same else ' (DIFFERS)'} | {none.accuracy:.3f} | "
                f"{asfl['silent'].epsilon_spread():.1%} | {none.epsilon_spread():.1%} | "
                f"{max(none.epsilons().values()):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [4.0, 16.0, 64.0])
