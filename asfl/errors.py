"""The CLI's one-line errors and its exit codes (issue #17).

Exit codes, the same for every command:
  0  every property held (or the command did what it was asked)
  1  a property or condition was violated: a verdict
  2  bad input: a path, file, parameter or variant the tool refuses, named in one line
  3  internal error: one line, and the traceback in a log file (`crash_log`)
  130 interrupted (SIGINT): one line saying what had finished; no partial file is left

A traceback is never a verdict: CI can tell a crash (3) from a finding (1).
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

HELD = 0
VIOLATED = 1
BAD_INPUT = 2
INTERNAL = 3
INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user."""


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    print(f"asfl: error: {message}", file=sys.stderr)
    raise SystemExit(code)


# -- what finished before an interruption ------------------------------------------------------
_finished: list[str] = []


def begin() -> None:
    """A new command: nothing has finished yet (main may run several times in one process)."""
    _finished.clear()


def finished(what: str) -> None:
    """Record a piece of work that is complete (and written), so an interruption can say so."""
    _finished.append(what)


def interrupted() -> int:
    """SIGINT: one line naming what had finished; the writers (`atomic.write_atomic`, `safe_io`)
    already removed any partial file on the way out."""
    done = f"; finished: {', '.join(_finished)}" if _finished else "; nothing had finished"
    print(f"asfl: interrupted{done}; no partial file written", file=sys.stderr)
    _finished.clear()
    return INTERRUPTED


# -- internal errors -----------------------------------------------------------------------------
def log_dir() -> Path:
    """Where tracebacks go: $ASFL_LOG_DIR, else <tmp>/asfl-logs."""
    return Path(os.environ.get("ASFL_LOG_DIR") or Path(tempfile.gettempdir()) / "asfl-logs")


def crash_log(error: BaseException, argv: list[str] | None) -> Path | None:
    """Write the traceback of an internal error to a log file; its path, or None if it cannot be
    written (the one-line message is still printed)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crash-{stamp}-{os.getpid()}.log"
        text = f"asfl {' '.join(argv if argv is not None else sys.argv[1:])}\n" + "".join(
            traceback.format_exception(error)
        )
        path.write_text(text)
        return path
    except OSError:
        return None


def internal_error(error: BaseException, argv: list[str] | None) -> int:
    log = crash_log(error, argv)
    first = (str(error).splitlines() or [""])[0][:200]
    where = f"traceback in {log}" if log else "no log could be written"
    print(
        f"asfl: internal error: {type(error).__name__}: {first} ({where}; please report it)",
        file=sys.stderr,
    )
    return INTERNAL
