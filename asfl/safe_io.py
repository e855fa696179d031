"""Output paths checked before any work starts, and sets of outputs that appear whole (issue #17).

* `output_dir(path, option)`: the directory exists and is writable, or can be created; it is not
  under a kernel file system (/proc, /sys, /dev). Nothing is created by the check, so a refused
  or interrupted run leaves no directory behind.
* `output_file(path, option)`: the same for one file, which must also not be a link or a device
  (`atomic.check_target`).
* `staged(out, names)`: a run's set of outputs (results, plots, recording) is written into a
  staging folder beside `out` and renamed into place once, so it appears whole or not at all.
* `safe_name(text)`: a name from a user's file (a variant's NAME) made safe as a file name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from asfl.reference.atomic import UnsafeTarget, check_target

from .errors import UsageError

#: kernel file systems: writing there is never an output (and may not fail until late)
PSEUDO = (Path("/proc"), Path("/sys"), Path("/dev"))


def _under_pseudo(path: Path) -> Path | None:
    resolved = path.resolve()
    return next((p for p in PSEUDO if resolved == p or p in resolved.parents), None)


def _probe(directory: Path) -> str | None:
    """Whether a file can be created in `directory` (root ignores permission bits, a read-only
    file system does not: so try, rather than ask `os.access`). The reason it cannot, or None."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".asfl-probe-")
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(name)
    return None


def output_dir(path: Path | str, option: str) -> Path:
    """Check, before the run, that `path` is or can become a writable directory (creates nothing)."""
    path = Path(path)
    pseudo = _under_pseudo(path)
    if pseudo is not None:
        raise UsageError(f"{option} {path}: under {pseudo}, a kernel file system; choose your own directory")
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise UsageError(f"{option} {path}: exists and is not a directory")
        reason = _probe(path)
        if reason:
            raise UsageError(f"{option} {path}: cannot write there ({reason})")
        return path
    ancestor = Path(os.path.abspath(path)).parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option} {path}: cannot be created, {ancestor} is not a directory")
    reason = _probe(ancestor)
    if reason:
        raise UsageError(f"{option} {path}: cannot be created in {ancestor} ({reason})")
    return path


def output_file(path: Path | str, option: str) -> Path:
    """Check, before the run, that `path` can be written as a regular file (never through a link or
    a device: `atomic.check_target`), in a directory that exists or can be created."""
    path = Path(path)
    try:
        check_target(path)
    except UnsafeTarget as e:
        raise UsageError(f"{option} {e}") from None
    output_dir(path.parent, option)
    return path


_STAGING = re.compile(r"^\.(?P<name>.+)\.(staging|previous)-(?P<pid>\d+)-\w+$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(out: Path) -> None:
    """Remove the staging folders of runs that were killed (their process is gone)."""
    parent = Path(os.path.abspath(out)).parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        match = _STAGING.match(entry.name)
        if match and match["name"] == out.name and not _alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def check_owned(out: Path, names: Iterable[str], option: str) -> None:
    """`out` is replaced as a whole, so it may hold only the outputs of an earlier run."""
    if not out.is_dir():
        return
    allowed = set(names)
    foreign = sorted(p.name for p in out.iterdir() if p.name not in allowed)
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise UsageError(
            f"{option} {out}: holds files this command did not write ({shown}); "
            "its outputs replace the whole directory, so give a new or empty one"
        )


@contextlib.contextmanager
def staged(out: Path, names: Iterable[str], option: str = "--out") -> Iterator[Path]:
    """Write a set of outputs into a staging folder beside `out`; on success rename it into place
    once (an earlier run's `out` is moved aside first, then removed), on any failure or SIGINT
    remove it. A kill -9 leaves at most a hidden staging folder, removed by the next run."""
    names = list(names)
    output_dir(out, option)
    check_owned(out, names, option)
    _clean_stale(out)
    parent = Path(os.path.abspath(out)).parent
    parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-"
    stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.staging-{tag}"))
    try:
        os.chmod(stage, 0o777 & ~_umask())
        yield stage
        previous = None
        if out.exists():
            previous = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.previous-{tag}"))
            os.rename(out, previous / "old")
        os.rename(stage, out)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def safe_name(text: str, fallback: str = "variant") -> str:
    """`text` as one file-name component: letters, digits, '.', '_' and '-' only, no leading dot,
    at most 64 characters (a variant's NAME = "../../x" must not write outside --out)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:64]
    return cleaned or fallback
