"""Atomic file writing: a temporary file beside the target, then a rename (never a half-written file).

The file gets the mode a plain `open()` would give it (0666 minus the user's umask), not the 0600
of `mkstemp`. A target that exists and is not a regular file (a symbolic link, a device, a FIFO,
a directory) is refused with `UnsafeTarget`: a rename would silently replace it (issue #17). The
temporary file carries the writer's pid, so one left by a killed writer is removed by the next.
"""

from __future__ import annotations

import glob
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


def _dead(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        return False
    return False


def _remove_stale(path: Path) -> None:
    """Temporary files of earlier writes of `path` whose process was killed (kill -9 skips cleanup):
    named `.NAME.PID.RANDOM.tmp`, removed once PID is gone."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and _dead(pid):
            tmp.unlink(missing_ok=True)


def write_atomic(path: Path | str, data: str | bytes) -> Path:
    path = check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, umask_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
