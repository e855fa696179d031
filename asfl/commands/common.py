"""Options shared by subcommands: the protocol configuration, and safe output writing."""

from __future__ import annotations

import argparse
import json

from asfl.reference.atomic import write_atomic
from asfl.spec.errors import ParamsError
from asfl.spec.params import Params

from ..limits import check_raw_sizes

__all__ = ["add_config_options", "balance_judged", "params_from", "print_json", "write_atomic"]


def add_config_options(p: argparse.ArgumentParser, rounds: int = 4, n_c: int = 8) -> None:
    g = p.add_argument_group("configuration (PROTOCOL.md section 2)")
    g.add_argument("--n-c", type=int, default=n_c, help=f"clients (default {n_c})")
    g.add_argument("--t-c", type=int, default=1, help="clients that may crash (default 1)")
    g.add_argument("--n-a", type=int, default=4, help="aggregators (default 4)")
    g.add_argument("--t-a", type=int, default=1, help="Byzantine aggregators (default 1)")
    g.add_argument("--rounds", type=int, default=rounds, help=f"rounds R (default {rounds})")
    g.add_argument("--threshold", type=int, default=None, help="T (default n_a - t_a)")
    g.add_argument("--m", type=int, default=None, help="minimum set size (default min k_i - t_c)")
    g.add_argument("--quota", type=int, default=None, help="per-client release quota Q")
    g.add_argument("--s-max", type=int, default=1, help="staleness bound (default 1)")
    g.add_argument("--dim", type=int, default=4, help="model dimension d (default 4)")
    g.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="accept parameters that break a quorum condition (to study the failure)",
    )


def params_from(args: argparse.Namespace, symbolic: bool = False) -> Params:
    """The configuration, its sizes bounded first (`limits.py`: events and memory of a run, the
    symbolic search's tighter bound when `symbolic`)."""
    check_raw_sizes(args, symbolic=symbolic)
    return Params(
        n_c=args.n_c,
        t_c=args.t_c,
        n_a=args.n_a,
        t_a=args.t_a,
        R=args.rounds,
        T=args.threshold,
        m=args.m,
        Q=args.quota,
        s_max=args.s_max,
        d=args.dim,
        allow_unsafe=args.allow_unsafe,
    )


def balance_judged(params: Params, properties: list[str], allow_unsafe: bool) -> None:
    """A check that judges P6 refuses sizes where its balance clause cannot hold (H1 quota room,
    `Params.quota_room`), naming the condition and its numbers, like Q1-Q6; --allow-unsafe studies them."""
    room = params.quota_room
    if "P6" in properties and not room.holds and not allow_unsafe:
        raise ParamsError(
            room.name,
            f"{room.statement} fails ({room.numbers}): P6's balance cannot hold in R={params.R} rounds; "
            "choose more rounds or a smaller --quota, leave P6 out, or pass --allow-unsafe to study it",
        )


def print_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))
