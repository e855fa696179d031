"""Workers: run picklable tasks on local processes or on Ray, results in the order of the tasks.

`run_ordered(fn, items, workers=N, ray=ADDRESS)` calls the top-level function `fn` on each item and
returns the results in the order of `items`, whichever worker finished first. Three backends:
  - in process, when `workers == 1` and no Ray (no process is started: the tests' default);
  - N local processes (`concurrent.futures.ProcessPoolExecutor`, forked). Tasks go to them through
    `cloudpickle`, which pickles by value what a worker could not import: a variant's rules, loaded
    from the user's file and guarded by closures (`variant_guard.py`). A worker that dies (SIGKILL,
    out of memory) breaks the pool: the pool is started again and every task not yet returned is
    submitted again, at most `MAX_ATTEMPTS` times each;
  - Ray (`ray="local"` starts one in this process, `ray="ADDRESS"` joins a cluster): each item is a
    Ray task with Ray's own retries (`max_retries`), so a worker lost on any machine is Ray's to
    re-run. Nothing else moves work between machines.
Two ways to stop early, both deterministic in what they return: `stop(result)` is called on each
result in the order of the items (a contiguous prefix) and, once it says True, nothing further is
returned; `deadline` (time.monotonic) stops taking new items once passed, except those of the same
`group(item)` as the last one taken, so that a budget ends on a whole group.

The results are a prefix of `items` in both cases, so what a caller merges does not depend on the
number of workers nor on the order in which they finished (`units.py`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

import cloudpickle

T = TypeVar("T")
R = TypeVar("R")

#: times one task is tried on local processes before its loss is an error
MAX_ATTEMPTS = 3
#: Ray's retries of a task whose worker died
RAY_RETRIES = 3


@dataclass(frozen=True)
class Workers:
    """Where tasks run: `workers` local processes (1: this process), or Ray at `ray`; None: every
    core here, or every CPU of the Ray cluster."""

    workers: int | None = 1
    ray: str | None = None


#: the default: this process alone
IN_PROCESS = Workers()


class WorkerLost(RuntimeError):
    """A task's worker died `MAX_ATTEMPTS` times (the task itself kills it: out of memory ...)."""


@dataclass
class Stats:
    """How the tasks ran: retried after a worker died (local processes; Ray retries its own)."""

    backend: str
    workers: int
    tasks: int = 0
    retried: int = 0


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_ordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int | None = 1,
    ray: str | None = None,
    stop: Callable[[R], bool] | None = None,
    deadline: float | None = None,
    group: Callable[[T], Hashable] | None = None,
    on_result: Callable[[R], None] | None = None,
) -> tuple[list[R], Stats]:
    """The results of `fn` on a prefix of `items`, in their order (see the module docstring).
    `workers`: processes, or Ray tasks running at once; None: every core here, or every CPU of the
    Ray cluster."""
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    backend: _Backend
    if ray is not None:
        ray_backend = _Ray(ray)
        backend, workers = ray_backend, workers or ray_backend.cpus()
    else:
        workers = workers or default_workers()
        backend = _InProcess() if workers == 1 else _Local(workers)
    stats = Stats(backend.name, workers)
    source = iter(items)
    pending: dict[Any, tuple[int, T]] = {}
    done: dict[int, R] = {}
    out: list[R] = []
    taken = 0
    last_group: Hashable = object()
    exhausted = stopped = False
    # a task waiting behind each running one (no worker idles between two); one at a time in process
    window = 1 if isinstance(backend, _InProcess) else 2 * workers
    try:
        while True:
            while not exhausted and not stopped and len(pending) < window:
                item = _next(source, deadline, group, last_group)
                if item is None:
                    exhausted = True
                    break
                last_group = group(item[0]) if group is not None else None
                pending[backend.submit(fn, item[0])] = (taken, item[0])
                taken += 1
                stats.tasks += 1
            if not pending:
                break
            for handle, result in backend.collect(list(pending), fn, pending, stats):
                position, _item = pending.pop(handle)
                done[position] = result
            while len(out) in done and not stopped:
                result = done.pop(len(out))
                out.append(result)
                if on_result is not None:
                    on_result(result)
                if stop is not None and stop(result):
                    stopped = True
            if stopped:
                backend.cancel(list(pending))
                pending.clear()
                break
    except BaseException:  # an interruption, or a task's error: the work in flight is dropped
        backend.abort()
        raise
    finally:
        backend.close()
    return out, stats


def _next(
    source: Iterator[T], deadline: float | None, group: Callable[[T], Hashable] | None, last: Hashable
) -> tuple[T] | None:
    """The next item to take, in a 1-tuple (an item may be None), or None when there is none or the
    deadline passed (then only the rest of the last group is taken)."""
    item = next(source, _END)
    if item is _END:
        return None
    if deadline is not None and time.monotonic() >= deadline:
        if group is None or group(item) != last:
            return None
    return (item,)


_END: Any = object()


class _Backend:
    name = "?"

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        raise NotImplementedError

    def collect(
        self, handles: list[Any], fn: Callable[[Any], Any], pending: dict[Any, tuple[int, Any]], stats: Stats
    ) -> list[tuple[Any, Any]]:
        """At least one finished (handle, result); may replace lost handles in `pending`."""
        raise NotImplementedError

    def cancel(self, handles: list[Any]) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Stop the tasks still running (an interruption: nothing of theirs is wanted)."""


class _InProcess(_Backend):
    name = "in process"

    def __init__(self) -> None:
        self.results: dict[int, Any] = {}

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        handle = len(self.results)
        self.results[handle] = fn(item)
        return handle

    def collect(self, handles, fn, pending, stats):
        return [(h, self.results.pop(h)) for h in handles]


class _Local(_Backend):
    name = "local processes"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self._pool()
        self.attempts: dict[int, int] = {}

    def _pool(self) -> ProcessPoolExecutor:
        # fork: a worker starts with what the driver loaded (a variant's rules, the spec), in
        # milliseconds; the forkserver would have to import and pickle both again
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        # each worker in a session of its own, as Ray's are: the kernel's autogroup scheduling gives
        # one CPU share to a whole session, so N workers forked in the user's session got no more
        # CPU than one process whenever another session was busy (docs/check.md, "Figures")
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, fn, item):
        try:
            return self.pool.submit(_call, cloudpickle.dumps((fn, item)))
        except BrokenProcessPool as e:  # a worker died since the last collect: lost like the others
            lost: Future = Future()
            lost.set_exception(e)
            return lost

    def collect(self, handles, fn, pending, stats):
        finished, _ = wait(handles, return_when=FIRST_COMPLETED)
        out = []
        lost = False
        for fut in finished:
            try:
                out.append((fut, fut.result()))
            except BrokenProcessPool:
                lost = True
        if lost:
            self._restart(fn, pending, stats, {f for f, _ in out})
        return out

    def _restart(self, fn, pending, stats: Stats, returned: set[Future]) -> None:
        """A worker died: every task not returned is submitted again, to a new pool."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()
        for fut in [f for f in pending if f not in returned]:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                continue  # returned before the pool broke: collected next time
            position, item = pending.pop(fut)
            attempts = self.attempts.get(position, 1) + 1
            if attempts > MAX_ATTEMPTS:
                raise WorkerLost(f"task {position} lost its worker {MAX_ATTEMPTS} times")
            self.attempts[position] = attempts
            stats.retried += 1
            pending[self.submit(fn, item)] = (position, item)

    def cancel(self, handles):
        for fut in handles:
            fut.cancel()

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self):
        # the workers are in sessions of their own: a Ctrl-C in the terminal does not reach them
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.terminate()


def _start_worker(driver: int) -> None:
    """A local worker's start: a session of its own (above), and, on Linux, killed with its driver
    (PR_SET_PDEATHSIG): a driver killed with SIGKILL leaves no idle worker behind."""
    if hasattr(os, "setsid"):
        os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != driver:  # the driver died before the line above
            os._exit(1)


def _call(blob: bytes) -> Any:
    """A local worker's task: `fn(item)`, both sent by value."""
    fn, item = cloudpickle.loads(blob)
    return fn(item)


class _Ray(_Backend):
    name = "ray"

    def __init__(self, address: str) -> None:
        self.ray = connect(address)  # Ray's cloudpickle sends a variant's rules by value too
        self.remote: dict[Callable[..., Any], Any] = {}

    def cpus(self) -> int:
        """The CPUs of the cluster (at least 1)."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def submit(self, fn, item):
        task = self.remote.get(fn)
        if task is None:
            task = self.remote[fn] = self.ray.remote(max_retries=RAY_RETRIES)(fn)
        return task.remote(item)

    def collect(self, handles, fn, pending, stats):
        ready, _ = self.ray.wait(handles, num_returns=1)
        return [(ref, self.ray.get(ref)) for ref in ready]

    def cancel(self, handles):
        for ref in handles:
            self.ray.cancel(ref, force=False)


def connect(address: str) -> Any:
    """Ray, initialised once per process: `local` starts a Ray in this process (its workers are
    local processes), anything else is the address of a running cluster (`ray start --head`)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("--ray needs Ray: pip install 'asfl[ray]'") from None
    if not ray.is_initialized():
        options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if address == "local":
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    return ray
