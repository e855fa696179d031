"""Bounds on every size and number the CLI accepts, derived from memory and time (issue #17).

No command starts work it cannot finish within a bound it states. The bounds come from
measurements of the simulator (`asfl simulate`, one core of a shared 2-core machine, Python 3.11):

* events of one run: about `R * (n_c * (n_a + 4) + n_a**3)` (each client's CONTRIB and the shares
  it seals for every aggregator, and the CERTIFY broadcast of every cluster to every aggregator);
  measured 633 at n_c=8, n_a=4, R=4, 22,096 at n_c=64, n_a=16, R=4, 13,883 at n_c=2000, n_a=4, R=1;
* time of one event: about `0.3 + 0.0035 * n_c` ms (a step copies the world, linear in n_c);
  measured 0.3 ms at n_c=8, 1.3 ms at 256, 3.4 ms at 1000, 7.0 ms at 2000;
* memory of a concrete run: about `8 * d * n_c * R * (n_a + 2)` bytes (int64 vectors: a client's
  value, pad and n_a shares per round are kept in the world's history), plus ~100 MB of Python;
  measured 632 MB at d=100,000, n_c=32, n_a=4, R=4.

`MEMORY_BUDGET` (default 2 GiB, or $ASFL_MEMORY_BUDGET in bytes, with K/M/G) bounds the memory
estimate; `MAX_RUN_SECONDS` bounds one concrete run's estimated time (30 minutes), and
`MAX_CHECK_RUN_SECONDS` one run of the adversarial search (a minute at the concrete speed: symbolic
values are slower, and every property explores --max-examples runs). A refusal names the estimate,
the bound and how to lower it. Runs within the bounds that are long say so and show progress
(`progress.py`; `check` and `train` draw progress bars).
"""

from __future__ import annotations

import math
import os
import re

from asfl.spec.params import Params

from .errors import UsageError

#: exceptions a malformed but well-typed input (a trace's action) raises from the spec: bad input
MALFORMED = (TypeError, KeyError, AttributeError, IndexError, ArithmeticError)

#: estimated seconds of one concrete run (simulator, replayed trace)
MAX_RUN_SECONDS = 1800.0
#: estimated seconds of one run of the adversarial search (`check`, `audit`), at the concrete speed
MAX_CHECK_RUN_SECONDS = 60.0
#: chaos steps per run are events: at most this many (--max-chaos)
MAX_CHECK_EVENTS = 50_000
#: the symbolic domain keeps d linear forms per value
MAX_CHECK_DIM = 256
#: sizes: beyond these the estimates above are off the measured range
MAX_CLIENTS = 100_000
MAX_AGGREGATORS = 1_000
MAX_ROUNDS = 100_000
MAX_DIM = 100_000_000
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """Bytes a run may plan to use: $ASFL_MEMORY_BUDGET (e.g. 4G), else 2 GiB."""
    text = os.environ.get("ASFL_MEMORY_BUDGET", "2G").strip().upper()
    match = re.fullmatch(r"(\d+)\s*([KMGT]?)I?B?", text)
    if not match:
        raise UsageError(f"ASFL_MEMORY_BUDGET={text!r}: give bytes, e.g. 4G or 500M")
    return int(match[1]) * _UNITS[match[2]]


def events_estimate(n_c: int, n_a: int, rounds: int) -> int:
    return rounds * (n_c * (n_a + 4) + n_a**3)


def seconds_estimate(n_c: int, n_a: int, rounds: int) -> float:
    """Seconds of one concrete run: events times `0.3 + 0.0035 * n_c` ms (measured, see above)."""
    return events_estimate(n_c, n_a, rounds) * (0.3 + 0.0035 * n_c) / 1000


def memory_estimate(n_c: int, n_a: int, rounds: int, d: int) -> int:
    return 8 * d * n_c * rounds * (n_a + 2) + 100 * 2**20


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def check_sizes(
    n_c: int,
    n_a: int,
    rounds: int,
    d: int,
    where: str,
    symbolic: bool = False,
    labels: tuple[str, str, str, str] = ("n_c=", "n_a=", "R=", "d="),
) -> None:
    """Refuse sizes whose run would exceed `MAX_EVENTS` (`MAX_CHECK_EVENTS` for the symbolic
    search) or the memory budget, before any allocation."""
    for label, value, bound in zip(
        labels,
        (n_c, n_a, rounds, d),
        (MAX_CLIENTS, MAX_AGGREGATORS, MAX_ROUNDS, MAX_CHECK_DIM if symbolic else MAX_DIM),
        strict=True,
    ):
        if value > bound:
            raise UsageError(f"{where}{label}{value}: over the bound {bound} (asfl/limits.py)")
    seconds = seconds_estimate(n_c, n_a, rounds)
    bound = MAX_CHECK_RUN_SECONDS if symbolic else MAX_RUN_SECONDS
    if seconds > bound:
        raise UsageError(
            f"{where}about {events_estimate(n_c, n_a, rounds):,} events per run, ~{seconds / 60:.0f} min "
            f"at the measured speed, over the bound of {bound / 60:.0f} min; lower the clients or rounds"
        )
    need, budget = memory_estimate(n_c, n_a, rounds, d), memory_budget()
    if need > budget:
        raise UsageError(
            f"{where}about {_gib(need)} of memory (8*d*n_c*R*(n_a+2) bytes), over the budget of "
            f"{_gib(budget)}; lower d, clients or rounds, or raise $ASFL_MEMORY_BUDGET"
        )


def check_params(params: Params, where: str, symbolic: bool = False) -> None:
    check_sizes(params.n_c, params.n_a, params.R, params.d, f"{where}: ", symbolic)


def check_replay(params: Params, events: int, where: str) -> None:
    """A recorded run re-executes its events: their estimated time is bounded like a run's."""
    check_params(params, f"{where}: #meta.params")
    seconds = events * (0.3 + 0.0035 * params.n_c) / 1000
    if seconds > MAX_RUN_SECONDS:
        raise UsageError(
            f"{where}: {events:,} steps of {params.n_c} clients, ~{seconds / 60:.0f} min to replay at the "
            f"measured speed, over the bound of {MAX_RUN_SECONDS / 60:.0f} min"
        )


def check_raw_sizes(args: object, symbolic: bool = False) -> None:
    """The CLI's --n-c, --n-a, --rounds, --dim, checked before `Params` builds anything (its
    cluster sizes and the world are linear in n_c)."""
    n_c, n_a = getattr(args, "n_c", 1), getattr(args, "n_a", 1)
    rounds, d = getattr(args, "rounds", 1), getattr(args, "dim", 1)
    if min(n_c, n_a, rounds, d) < 1:
        return  # Params refuses these with the condition's name
    check_sizes(n_c, n_a, rounds, d, "", symbolic, ("--n-c ", "--n-a ", "--rounds ", "--dim "))


def finite(
    option: str, value: float, low: float = 0.0, high: float = math.inf, low_open: bool = True
) -> None:
    """A real-valued option: finite, within (low, high] (or [low, high])."""
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise UsageError(f"{option} {value!r}: must be a finite number in {bracket}{low:g}, {high:g}]")


#: examples per property: each is one run of at most MAX_CHECK_EVENTS events (progress is shown)
MAX_EXAMPLES = 100_000
#: chaos steps per run are events too
MAX_CHAOS = MAX_CHECK_EVENTS
#: the explorer keeps every distinct state, each holding every party: measured 1.1 GB for 184,328
#: states at n_c=3, n_a=1, R=2 (about 700 bytes per party per round per state), 800 states/s
EXPLORE_BYTES_PER_PARTY_ROUND = 700
MAX_STATES = 10_000_000
MAX_EXPLORE_CLIENTS = 64
MAX_EXPLORE_AGGREGATORS = 16


def bounded(option: str, value: int | None, bound: int) -> None:
    if value is not None and value > bound:
        raise UsageError(f"{option} {value}: over the bound {bound} (asfl/limits.py)")


def check_explore_sizes(args: object) -> None:
    """Exhaustive search stores every state; past these sizes no --max-states bound completes."""
    bounded("--n-c", getattr(args, "n_c", 1), MAX_EXPLORE_CLIENTS)
    bounded("--n-a", getattr(args, "n_a", 1), MAX_EXPLORE_AGGREGATORS)
    states, parties = getattr(args, "max_states", 1), getattr(args, "n_c", 1) + getattr(args, "n_a", 1)
    need = states * parties * max(getattr(args, "rounds", 1), 1) * EXPLORE_BYTES_PER_PARTY_ROUND
    if need > memory_budget():
        raise UsageError(
            f"--max-states {states}: about {_gib(need)} of memory at {parties} parties (700 bytes per "
            f"party, round and state), over the budget of {_gib(memory_budget())}; lower --max-states"
        )
