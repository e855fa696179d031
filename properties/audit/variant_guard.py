"""User code under guard: a variant's rules time-limited, their errors and results named (issue #17).

A variant file is the user's program. Each rule it replaces is wrapped (`guard`) so that, while the
audit runs it inside the spec and Hypothesis:
  * a rule that raises (anything, `SystemExit` included) ends the audit with one line
    `FILE:LINE: rule NAME raised ValueError: ...`, never a Hypothesis `@reproduce_failure` dump:
    `RuleFailure` is a `BaseException`, which Hypothesis does not treat as a failing example, so it
    neither shrinks nor reports it (the way `runner._ShrinkBudgetSpent` leaves the search);
  * a rule that returns a value of the wrong type (the standard rule's annotation, `rules.py`) ends it
    the same way, naming the rule, what it returned and what was expected;
  * a rule that runs longer than the timeout is stopped by SIGALRM and named.
`ProtocolError`, the spec's own refusal, passes through: a rule may refuse as the standard ones do.
`time_limit` bounds the import of the file the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import signal
import traceback
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import UnionType
from typing import Any

import numpy as np
from asfl.properties.audit.variant_file import Variant
from asfl.spec import STANDARD
from asfl.spec.errors import ProtocolError


class RuleFailure(BaseException):
    """A variant's rule raised, returned a wrong type or did not return in time: one line."""


class TimeLimit(BaseException):
    """Raised by SIGALRM inside user code that ran past its time limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise TimeLimit()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimit` in the main thread once `seconds` have passed (SIGALRM; main thread only)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_ACCEPT: dict[type, tuple[type, ...]] = {
    bool: (bool, int, np.bool_),
    int: (int, np.integer),
    float: (int, float, np.integer, np.floating),
}


def _accepted(annotation: Any) -> tuple[type, ...] | None:
    """The runtime types a value of `annotation` may have; None when not checkable simply."""
    if annotation is None or annotation is type(None):
        return (type(None),)
    if annotation is typing.Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):
        parts = [_accepted(a) for a in typing.get_args(annotation)]
        return None if any(p is None for p in parts) else tuple(t for p in parts for t in p)  # type: ignore[union-attr]
    if origin is not None:
        return (origin,) if isinstance(origin, type) else None
    if isinstance(annotation, type):
        return _ACCEPT.get(annotation, (annotation,))
    return None


def _expected(rule: str) -> tuple[tuple[type, ...] | None, str]:
    standard = getattr(STANDARD, rule)
    try:
        annotation = typing.get_type_hints(standard).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable annotation is simply not checked
        return None, ""
    return _accepted(annotation), getattr(annotation, "__name__", None) or str(annotation)


def _where(fn: Callable[..., Any], error: BaseException | None, path: Path | None) -> str:
    """FILE:LINE of the user's code: the deepest frame in the variant file, else the rule's `def`."""
    code = getattr(fn, "__code__", None)
    filename = code.co_filename if code is not None else str(path or "?")
    line = code.co_firstlineno if code is not None else 1
    if error is not None:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
        if frames:
            line = frames[-1].lineno or line
    return f"{filename}:{line}"


class _Clock:
    """One alarm per outermost rule call (a rule calling another guarded rule is timed once)."""

    depth = 0


def _guarded(rule: str, fn: Callable[..., Any], timeout: float, path: Path | None) -> Callable[..., Any]:
    accepted, expected = _expected(rule)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        outer = _Clock.depth == 0
        if outer:
            previous = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        _Clock.depth += 1
        try:
            result = fn(*args, **kwargs)
        except (ProtocolError, RuleFailure, KeyboardInterrupt):
            raise
        except TimeLimit:
            raise RuleFailure(
                f"{_where(fn, None, path)}: rule {rule} did not return within {timeout:g} s (--timeout)"
            ) from None
        except BaseException as e:  # noqa: BLE001 - the user's error, SystemExit included, is named
            detail = f": {str(e).splitlines()[0][:200]}" if str(e).strip() else ""
            where = _where(fn, e, path)
            raise RuleFailure(f"{where}: rule {rule} raised {type(e).__name__}{detail}") from None
        finally:
            _Clock.depth -= 1
            if outer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        if accepted is not None and not isinstance(result, accepted):
            shown = repr(result)[:60]
            raise RuleFailure(
                f"{_where(fn, None, path)}: rule {rule} returned {shown} ({type(result).__name__}), "
                f"expected {expected}"
            )
        return result

    return call


def guard(variant: Variant, timeout: float) -> Variant:
    """`variant` with every rule it replaces guarded (errors named, results typed, calls timed)."""
    replaced = variant.rules.replaced()
    wrapped = {name: _guarded(name, getattr(variant.rules, name), timeout, variant.path) for name in replaced}
    return dataclasses.replace(variant, rules=dataclasses.replace(variant.rules, **wrapped))
