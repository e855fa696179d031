"""Long runs say so (issue #17): a command whose estimated time is long prints one line with the
estimate and the option that bounds it, and, on a terminal, ticks the elapsed time.

Used where the engine has no progress hook of its own (`simulate`, `explore`); `check` and `train`
draw progress bars, `audit` relays its child's progress (`sandbox.py`).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

#: estimates above this many seconds are announced
ANNOUNCE_SECONDS = 30.0
#: measured: the explorer visits 800-3,000 states/s (the simulator's speed is in limits.py)
STATES_PER_SECOND = 800.0


@contextlib.contextmanager
def long_run(label: str, estimate_seconds: float, bound_with: str, announce: bool = True) -> Iterator[None]:
    """Announce a run estimated to take more than `ANNOUNCE_SECONDS` (when the estimate is a good
    one: `announce`), and tick the elapsed time on a terminal, naming the bounding option."""
    if estimate_seconds <= ANNOUNCE_SECONDS:
        yield
        return
    if announce:
        print(
            f"asfl: {label}: about {estimate_seconds / 60:.0f} min at the measured speed; "
            f"bound it with {bound_with}",
            file=sys.stderr,
        )
    if not sys.stderr.isatty():
        yield
        return
    done = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        while not done.wait(1.0):
            elapsed = time.monotonic() - start
            line = (
                f"\r\x1b[K{label}: {elapsed:.0f} s (estimate ~{estimate_seconds:.0f} s; bound: {bound_with})"
            )
            print(line, end="", file=sys.stderr, flush=True)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)
