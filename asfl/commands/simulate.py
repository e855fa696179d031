"""`asfl simulate`: run the spec with concrete values under a seeded scheduler."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..limits import events_estimate, seconds_estimate
from ..progress import long_run
from .common import add_config_options, params_from, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run the protocol once under a seeded scheduler")
    add_config_options(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", choices=["random", "fifo"], default="random")
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print the run as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    params = params_from(args)
    if args.max_steps is not None and args.max_steps < 1:
        raise UsageError("--max-steps must be at least 1")
    from asfl.reference.simulator import simulate

    seconds = seconds_estimate(params.n_c, params.n_a, params.R)
    if args.max_steps is not None:  # --max-steps caps the events
        seconds *= min(1.0, args.max_steps / events_estimate(params.n_c, params.n_a, params.R))
    with long_run("simulate", seconds, "--max-steps, --rounds or --n-c"):
        res = simulate(params, args.seed, args.scheduler, args.max_steps)
    if args.json:
        print_json(res.to_json())
        return 0 if res.finished else 1
    print(
        f"asfl simulate: n_c={params.n_c} t_c={params.t_c} n_a={params.n_a} t_a={params.t_a} "
        f"T={params.T} m={params.m} R={params.R} seed={args.seed} scheduler={args.scheduler}"
    )
    print(f"silent Byzantine aggregators: {list(res.byzantine)}; crashed clients: {list(res.crashed)}")
    for r in range(params.R):
        print(f"round {r}:")
        for c in (c for c in res.certified if c.r == r):
            print(f"  cluster {c.i} certified  S={list(c.members)}  by {list(c.signers)}")
        for a, rounds in sorted(res.averaged.items()):
            if r in rounds:
                print(f"  aggregator {a} averaged clusters {rounds[r]} -> model {r + 1}")
        acc = {c: s[r + 1] for c, s in sorted(res.accepted.items()) if r + 1 in s}
        if acc:
            print(
                "  model",
                r + 1,
                "accepted at step:",
                ", ".join(f"c{c}@{s}" for c, s in acc.items()),
            )
    status = "finished" if res.finished else "did NOT finish"
    print(f"{status} after {res.steps} events")
    return 0 if res.finished else 1
