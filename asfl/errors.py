"""The CLI's one-line errors: what is wrong and how to fix it, exit code 2, never a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn


class UsageError(Exception):
    """Bad input from the user."""


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"asfl: error: {message}", file=sys.stderr)
    raise SystemExit(code)
