"""Bounded reading of the files a user hands the tool (issue #17): never more than a stated size,
never a FIFO, device or directory (a FIFO would hang, /dev/zero would exhaust memory), text only
as UTF-8, JSON only up to a stated nesting depth (the json module recurses, so a deeply nested
array would raise RecursionError). Every refusal is an `InputError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
from itertools import accumulate
from pathlib import Path
from typing import Any

from .atomic import _kind


class InputError(ValueError):
    """A file the tool will not read, or cannot parse: `FILE: what is wrong`."""


def read_bounded(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of the regular file `path`, refused if larger than `limit` bytes. Opened without
    blocking, so a FIFO is refused rather than waited on."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: is {_kind(st.st_mode)}; a {what} must be a regular file")
        if st.st_size > limit:
            raise InputError(f"{path}: {st.st_size} bytes, over the limit of {limit} bytes for a {what}")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read it
        raise InputError(f"{path}: over the limit of {limit} bytes for a {what}")
    return data


def read_text_bounded(path: Path | str, limit: int, what: str) -> str:
    data = read_bounded(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start}); is it really a {what}?") from None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (strings skipped), without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def load_json_bounded(path: Path | str, limit: int, max_depth: int, what: str) -> Any:
    """Parse the JSON file `path`, refused beyond `limit` bytes or `max_depth` levels of nesting."""
    text = read_text_bounded(path, limit, what)
    depth = json_depth(text)
    if depth > max_depth:
        raise InputError(f"{path}: JSON nested {depth} deep, over the limit of {max_depth} for a {what}")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"{path}: cannot read the {what}: not JSON ({e})") from None
