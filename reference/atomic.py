"""Atomic file writing: a temporary file beside the target, then a rename (never a half-written file).

The file gets the mode a plain `open()` would give it (0666 minus the user's umask), not the 0600
of `mkstemp`. A target that exists and is not a regular file (a symbolic link, a device, a FIFO,
a directory) is refused with `UnsafeTarget`: a rename would silently replace it (issue #17).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class UnsafeTarget(ValueError):
    """The target exists and is not a regular file; the message says what it is."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_target(path: Path | str) -> Path:
    """Refuse a target that a rename would replace without saying so (anything but a regular file)."""
    path = Path(path)
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):  # nothing there to replace
        return path
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeTarget(f"{path} is {_kind(st.st_mode)}; asfl replaces only regular files")
    return path


def umask_mode() -> int:
    """0666 minus the process umask: what `open(path, "w")` would create."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path | str, data: str | bytes) -> Path:
    path = check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, umask_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
