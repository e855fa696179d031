"""User code in a child process: a crash, exit or hang of a variant cannot take the report with it
(issue #17).

`run_isolated(work, ...)` forks; the child runs `work(channel)` with its output captured and sends
back, as JSON lines on a pipe, `loaded` (the user's file imported), `progress` lines and, last,
`exit` with its exit code and captured output. The parent relays them. A child that ends without
`exit` (the user's code called `os._exit`, was killed by a signal, ...) is reported in one line and
is never a verdict: exit 2. A child that does not report `loaded` within the import timeout (plus
a grace period, for code that ignores SIGALRM) is killed. SIGINT stops the child first with SIGINT
(so its writers remove their temporary files), then with SIGKILL.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable

from .errors import BAD_INPUT, INTERRUPTED, UsageError, crash_log

#: seconds past the import timeout before a child that ignores SIGALRM is killed
GRACE = 10.0


class Channel:
    """The child's end of the pipe: one JSON object per line."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, kind: str, **data: object) -> None:
        os.write(self.fd, (json.dumps({"kind": kind, **data}) + "\n").encode())


def _child(work: Callable[[Channel], int], fd: int, argv: list[str] | None) -> None:
    channel = Channel(fd)
    out, err = io.StringIO(), io.StringIO()
    real_stdout_tty = sys.stdout.isatty()
    if real_stdout_tty:  # rich sizes tables to the terminal the parent prints on
        os.environ.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    sys.stdout, sys.stderr = out, err
    try:
        code = work(channel)
    except KeyboardInterrupt:
        os._exit(INTERRUPTED)  # the parent reports the interruption
    except SystemExit as e:  # our own fail(): its message is already in err
        code = e.code if isinstance(e.code, int) else BAD_INPUT
    except Exception as e:  # noqa: BLE001 - classified as the CLI does: one line, never a traceback
        from .cli import _ended_by

        try:
            code = _ended_by(e, argv)
        except SystemExit as refused:
            code = refused.code if isinstance(refused.code, int) else BAD_INPUT
    channel.send("exit", code=code, stdout=out.getvalue(), stderr=err.getvalue())


def _stop(pid: int) -> None:
    """SIGINT first (the child's writers clean up), SIGKILL if it has not ended within 5 s."""
    for sig, wait in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            time.sleep(0.05)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def run_isolated(
    work: Callable[[Channel], int], label: str, import_timeout: float, argv: list[str] | None = None
) -> int:
    """Run `work` in a forked child and relay its output and exit code (see the module docstring)."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller (pytest, the CLI's own handlers)
        try:
            os.close(read_fd)
            _child(work, write_fd, argv)
        finally:
            os._exit(0)
    os.close(write_fd)
    result: dict | None = None
    loaded = False
    deadline = time.monotonic() + import_timeout + GRACE
    progress = sys.stderr.isatty()
    buffer = b""
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                wait = None if loaded else max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([pipe], [], [], wait)
                if not ready:
                    _stop(pid)
                    raise UsageError(
                        f"{label}: did not finish importing within {import_timeout:g} s (--timeout); stopped"
                    )
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = json.loads(line)
                    if message["kind"] == "loaded":
                        loaded = True
                    elif message["kind"] == "progress" and progress:
                        print(f"\r\x1b[K{message['text']}", end="", file=sys.stderr, flush=True)
                    elif message["kind"] == "exit":
                        result = message
    except KeyboardInterrupt:
        _stop(pid)
        raise
    finally:
        if progress:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)
    _, status = os.waitpid(pid, 0)
    if result is None:
        raise UsageError(
            f"{label}: the variant ended the run before any verdict ({_how(status)}); "
            "a variant file only defines names and must not exit"
        )
    sys.stdout.write(result["stdout"])
    sys.stderr.write(result["stderr"])
    return int(result["code"])


def spec_failure(error: BaseException, label: str, argv: list[str] | None) -> UsageError:
    """The spec raised while running a variant's rules: the variant's doing, said in one line."""
    log = crash_log(error, argv)
    first = (str(error).splitlines() or [""])[0][:160]
    where = f"; traceback in {log}" if log else ""
    return UsageError(
        f"{label}: the spec failed while running the variant's rules ({type(error).__name__}: {first}){where}"
    )
