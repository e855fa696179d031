"""Why epsilons spread: what the slowest clients of an ASFL run did, in simulated time.

For the `--top` slowest clients (default 5): duration relative to the median, trainings completed,
data and noise contributions, carried-over contributions (I3) and contributions cut by a
certificate (released taken back, or dropped as too stale), the rounds contributed to, and the
final release count; then the time each model was first held (a round's length) and the release
histogram of every correct client. Release counts do not depend on the data, the partition or
epsilon (only on speeds, latencies and the rules), so one run covers every cell of the table.
About 1-2 minutes at n_c=1000, R=10.

    python benchmarks/stragglers.py [--seed=N] [--n-c=N] [--quota=Q] [--rounds=R] [--top=K]

(defaults: the README's cross-device configuration, n_c=1000, Q=4, R=10, seed 0)
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace

import numpy as np
from asfl.reference.experiment import TrainConfig, run_asfl, setup
from asfl.spec.messages import Certify
from asfl.spec.world import Deliver, TrainDone


def main(seed: int, n_c: int, quota: int, rounds: int, top: int) -> None:
    s = setup(replace(TrainConfig(), seed=seed, n_c=n_c, quota=quota, rounds=rounds))
    med = float(np.median(s.durations))
    slow = [int(c) for c in np.argsort(s.durations)[::-1][:top]]
    stats = {c: Counter() for c in slow}
    rounds_of = {c: [] for c in slow}
    prev = {"world": None}

    def on_step(w, now):
        before, ev = prev["world"], w.last.event
        prev["world"] = w
        if before is None:
            return
        if isinstance(ev, TrainDone) and ev.client in stats:
            c = ev.client
            stats[c]["trainings"] += 1
            stats[c]["data" if w.clients[c].released > before.clients[c].released else "noise"] += 1
            rounds_of[c].append(f"{max(w.clients[c].contributed)}@{now:.1f}")
        elif isinstance(ev, Deliver) and any(w.clients[c] is not before.clients[c] for c in stats):
            env = next(e for e in before.in_flight if e.id == ev.msg_id)
            c = env.dst.index
            if env.dst.role != "c" or c not in stats or not isinstance(env.msg, Certify):
                return
            b, a = before.clients[c], w.clients[c]
            if env.msg.r in b.outstanding and env.msg.r not in a.outstanding and c not in env.msg.members:
                stats[c]["cut"] += 1
                stats[c]["taken back"] += b.released - a.released
                if len(a.contributed) > len(b.contributed):
                    stats[c]["carried"] += 1
                    rounds_of[c].append(f"{max(a.contributed)}(carried)@{now:.1f}")

    res = run_asfl(s, on_step=on_step)
    des = res.extra["des"]
    print(
        f"n_c={n_c}, R={rounds}, Q={s.params.Q}, m={s.params.m}, seed {seed}: median duration {med:.2f}, "
        f"run ends at {des.time:.1f} ({des.time / med:.0f} median trainings)"
    )
    print("model r first held at:", ", ".join(f"{me.round}: {me.time:.1f}" for me in des.models))
    print(f"releases of the correct clients: {dict(sorted(Counter(res.releases.values()).items()))}")
    print(f"epsilon spread {res.epsilon_spread():.1%} (z={s.z:.2f}, epsilon {s.cfg.epsilon:g})\n")
    print("| client | duration / median | trainings | data | noise | cut | taken back | carried | releases |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in slow:
        n = stats[c]
        print(
            f"| {c} | {s.durations[c] / med:.1f} | {n['trainings']} | {n['data']} | {n['noise']} | "
            f"{n['cut']} | {n['taken back']} | {n['carried']} | {res.releases.get(c, 'crashed')} |"
        )
    print("\nrounds contributed to (@ simulated time):")
    for c in slow:
        print(f"  client {c}: {', '.join(rounds_of[c])}")


if __name__ == "__main__":
    flags = dict(a.removeprefix("--").split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    main(
        int(flags.get("seed", 0)),
        int(flags.get("n-c", 1000)),
        int(flags.get("quota", 4)),
        int(flags.get("rounds", 10)),
        int(flags.get("top", 5)),
    )
