"""`asfl serve aggregator|client --id N --config cluster.toml`: run one party of a cluster as this process.

The party listens where the cluster file says, applies the spec's transitions to what it receives,
and keeps its durable store in the cluster directory (docs/protocol.md, "Crash recovery"): started
again after a crash, it carries on from that store. A Byzantine aggregator (a `strategy` in the
cluster file) runs a strategy of the adversary library: the reference's concrete injections
(`reference/adversaries.py`) or the verification's named adversaries (`properties/adversaries/library.py`),
looked up here, in the CLI, because `reference` never imports `properties` (ARCHITECTURE.md).

This module is also `python -m asfl.commands.serve`, which `asfl cluster up` spawns: the same code,
without loading every other subcommand.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError, fail


def strategy_names() -> list[str]:
    from asfl.properties.adversaries.library import ADVERSARIES
    from asfl.reference.adversaries import STRATEGIES

    return sorted(set(STRATEGIES) | set(ADVERSARIES))


def resolve_strategy(name: str):
    """A Byzantine strategy `(World, Envelope) -> list[Inject]` by name, from the one library."""
    from asfl.reference.adversaries import STRATEGIES

    if name in STRATEGIES:
        return STRATEGIES[name]().react
    from asfl.properties.adversaries.library import ADVERSARIES

    if name in ADVERSARIES:
        adversary = ADVERSARIES[name]
        return lambda world, env: adversary(world)
    raise UsageError(f"unknown Byzantine strategy {name!r}; choose one of {', '.join(strategy_names())}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run one aggregator or client of a cluster as this process")
    add_arguments(p)
    p.set_defaults(run=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("role", choices=["aggregator", "client"])
    p.add_argument("--id", type=int, required=True, help="the party's index")
    p.add_argument("--config", required=True, help="cluster.toml (asfl cluster up writes one)")


def run(args: argparse.Namespace) -> int:
    from asfl.reference.runtime.config import ConfigError, load
    from asfl.reference.runtime.node import serve
    from asfl.spec.messages import aggregator, client

    try:
        cfg = load(args.config)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    party = aggregator(args.id) if args.role == "aggregator" else client(args.id)
    if party not in cfg.parties:
        raise UsageError(f"{args.config} has no {args.role} {args.id}")
    name = cfg.parties[party].strategy
    strategy = resolve_strategy(name) if name is not None else None
    try:
        serve(cfg, party, strategy)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    except OSError as e:
        raise UsageError(f"{party}: {e.strerror or e}") from e
    return 0


def serve_party(config: str, role: str, index: int) -> None:
    """One party of a cluster, its Byzantine strategy resolved (what `asfl cluster up` forks)."""
    from asfl.reference.runtime.config import load
    from asfl.reference.runtime.node import serve
    from asfl.spec.messages import Party

    cfg = load(config)
    party = Party(role, index)
    name = cfg.parties[party].strategy
    serve(cfg, party, resolve_strategy(name) if name is not None else None, exit_when_orphaned=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="asfl serve")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return run(args)
    except UsageError as e:
        fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
