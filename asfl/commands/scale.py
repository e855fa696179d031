"""Options of the commands that search (`check`, `audit`): where the work units run, the example
database, the time budget (docs/check.md, "Workers")."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..limits import bounded

#: local worker processes, at most (a fork each)
MAX_WORKERS = 1024
#: a time budget, at most: one week
MAX_BUDGET_SECONDS = 7 * 24 * 3600.0
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Scale:
    workers: int | None  # None: every CPU of the Ray cluster
    ray: str | None
    db: Path | None
    time_budget: float | None


def add_scale_options(p: argparse.ArgumentParser, budget: bool = True, db: bool = True) -> None:
    g = p.add_argument_group("workers (docs/check.md, 'Workers')")
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes, or Ray tasks at once; default: all cores (with --ray: all of the cluster's CPUs)",
    )
    g.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="run the work units as Ray tasks: 'local' starts Ray here, else a cluster's address "
        "(needs pip install 'asfl[ray]')",
    )
    if db:
        g.add_argument(
            "--db", default=None, metavar="DIR", help="example database: failing runs saved, replayed first"
        )
    if budget:
        g.add_argument(
            "--time-budget",
            default=None,
            metavar="DURATION",
            help="search until this is spent (e.g. 90s, 10m, 2h) instead of --max-examples runs",
        )


def scale_from(args: argparse.Namespace) -> Scale:
    """The options checked: one line naming what is wrong (exit 2), before any work starts."""
    from asfl.properties.search.workers import default_workers

    ray = args.ray
    # default: every core here, or (None) every CPU of the Ray cluster
    workers = args.workers if args.workers is not None else None if ray is not None else default_workers()
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    bounded("--workers", workers, MAX_WORKERS)
    if ray is not None:
        if not ray.strip():
            raise UsageError("--ray: give 'local' or the address of a Ray cluster (host:port)")
        try:
            import ray as _ray  # noqa: F401
        except ImportError:
            raise UsageError("--ray needs Ray: pip install 'asfl[ray]'") from None
    db = None
    if getattr(args, "db", None) is not None:
        db = Path(args.db)
        if db.exists() and not db.is_dir():
            raise UsageError(f"--db {args.db}: not a directory")
    budget = _duration(args.time_budget) if getattr(args, "time_budget", None) is not None else None
    return Scale(workers, ray, db, budget)


def _duration(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match or float(match[1]) <= 0:
        raise UsageError(f"--time-budget {text!r}: give a positive duration, e.g. 90s, 10m or 2h")
    seconds = float(match[1]) * _SECONDS[match[2]]
    if seconds > MAX_BUDGET_SECONDS:
        raise UsageError(f"--time-budget {text!r}: over the bound of one week")
    return seconds
