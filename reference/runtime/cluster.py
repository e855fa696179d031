"""A whole cluster on loopback: every aggregator and client its own OS process (`asfl cluster up`).

The orchestrator writes cluster.toml and the key files, starts the fault proxies (if any) in a
background thread, spawns `python -m asfl.commands.serve ROLE --id N --config cluster.toml` per
party, and watches the parties' status files. It kills parties with SIGKILL at chosen moments (when
some correct client first holds model `at_round`) and restarts them from their store if asked. It
stops once every correct party holds model R (P5's goal) or the timeout passes, then stops every
process with SIGTERM and reads their final status.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asfl.spec.messages import Party, aggregator, client
from asfl.spec.params import Params

from .config import DEFAULT_MAX_FRAME, ClusterConfig, load, write_cluster
from .node import serve_party
from .proxy import Faults, Proxy, ProxyThread


class ClusterError(RuntimeError):
    """A correct party's process exited by itself (a bug, or a store that contradicts itself)."""


@dataclass(frozen=True)
class Kill:
    """kill -9 `party` once some correct client holds model `at_round`; restart it from its store
    `restart_after` seconds later, or never (None: it counts as a crash, t_c or t_a)."""

    party: Party
    at_round: int
    restart_after: float | None = None


@dataclass
class Outcome:
    finished: bool
    seconds: float
    params: Params
    statuses: dict[str, dict[str, Any]]
    byzantine: dict[int, str]
    killed: list[dict[str, Any]]
    faulty: list[str]  # parties that do not count as correct: Byzantine, or killed for good
    proxy: dict[str, int] = field(default_factory=dict)

    def correct(self, role: str) -> list[dict[str, Any]]:
        return [s for p, s in self.statuses.items() if p[0] == role and p not in self.faulty]

    def summary(self) -> dict[str, Any]:
        p = self.params
        clients = self.correct("c")
        sent = {name: s.get("stats", {}).get("bytes_sent", 0) for name, s in self.statuses.items()}
        # first transmissions only: what the protocol costs, without the links' retransmissions
        first = {name: s.get("stats", {}).get("bytes_first_sent", 0) for name, s in self.statuses.items()}
        upload = sum(sent[f"c{c}"] for c in range(p.n_c)) / p.n_c
        contributions = sum(s.get("stats", {}).get("contributions", 0) for s in clients) or None
        model_bytes = 4 * p.d  # one field element of q < 2^31 per coordinate, as bench_reference counts
        return {
            "finished": self.finished,
            "rounds": p.R,
            "seconds": round(self.seconds, 3),
            "rounds_per_second": round(p.R / self.seconds, 3) if self.seconds > 0 else None,
            "params": {"n_c": p.n_c, "t_c": p.t_c, "n_a": p.n_a, "t_a": p.t_a, "T": p.T, "m": p.m, "d": p.d},
            "byzantine": {f"a{j}": s for j, s in self.byzantine.items()},
            "killed": self.killed,
            "bytes_on_wire": sum(sent.values()),
            "bytes_retransmitted": sum(
                s.get("stats", {}).get("bytes_resent", 0) for s in self.statuses.values()
            ),
            "upload_bytes_per_client": round(upload),
            "model_bytes": model_bytes,
            "upload_per_contribution_over_model": (
                round(sum(first[s["party"]] for s in clients) / contributions / model_bytes, 2)
                if contributions
                else None
            ),
            "simulator_upload_over_model": round(
                (4 * p.d * (1 + p.n_a) + 4 * p.n_a * p.n_a) / model_bytes, 2
            ),
            "proxy": self.proxy,
            "parties": self.statuses,
        }


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cluster:
    def __init__(
        self,
        directory: Path,
        params: Params,
        seed: int = 0,
        byzantine: dict[int, str] | None = None,
        faults: Faults | None = None,
        train_time: float = 0.02,
        max_frame: int = DEFAULT_MAX_FRAME,
        target: Callable[[str, str, int], None] = serve_party,
    ) -> None:
        """`target(config path, role, index)` runs one party in its process: by default
        `node.serve_party` (correct parties only; the CLI passes its own, which resolves strategies)."""
        self.directory = directory
        self.byzantine = dict(byzantine or {})
        self.faults = faults if faults is not None and faults.active else None
        parties = [aggregator(j) for j in range(params.n_a)] + [client(c) for c in range(params.n_c)]
        ports = free_ports(len(parties) * (2 if self.faults else 1))
        listen = dict(zip(parties, ports, strict=False))
        dial = dict(zip(parties, ports[len(parties) :], strict=False)) if self.faults else listen
        path = write_cluster(
            directory,
            params,
            seed,
            {p: (listen[p], dial[p]) for p in parties},
            self.byzantine,
            train_time,
            max_frame,
        )
        self.cfg: ClusterConfig = load(path)
        self.proxies: ProxyThread | None = None
        if self.faults:
            self.proxies = ProxyThread(
                [Proxy(dial[p], listen[p], self.faults, max_frame, str(p)) for p in parties]
            )
        # parties fork from a fork server that imported the runtime once: twelve processes start
        # in about a second, not in twelve interpreter start-ups (each is still its own OS process)
        self.target = target
        self.mp = multiprocessing.get_context("forkserver")
        self.mp.set_forkserver_preload([target.__module__, "asfl.reference.runtime.node"])
        self.procs: dict[Party, Any] = {}
        self.killed: list[dict[str, Any]] = []

    @property
    def params(self) -> Params:
        return self.cfg.params

    def parties(self) -> list[Party]:
        return list(self.cfg.parties)

    def spawn(self, party: Party) -> None:
        proc = self.mp.Process(
            target=_party_main, args=(self.target, str(self.cfg.path), party.role, party.index)
        )
        with _main_module_hidden(), _foreign_asfl_hidden():
            proc.start()
        self.procs[party] = proc

    def start(self) -> None:
        if self.proxies:
            self.proxies.start()
        for party in self.parties():
            self.spawn(party)

    def kill9(self, party: Party) -> None:
        proc = self.procs[party]
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)

    def statuses(self) -> dict[str, dict[str, Any]]:
        out = {}
        for party in self.parties():
            try:
                out[str(party)] = json.loads(self.cfg.status_path(party).read_text())
            except (OSError, ValueError):
                continue
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        if self.proxies:
            self.proxies.stop()

    def run(
        self,
        kills: list[Kill] = (),  # type: ignore[assignment]
        timeout: float = 60.0,
        progress: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Start, inject the kills, wait for P5's goal or the timeout, stop; return the outcome."""
        params = self.params
        faulty = {str(aggregator(j)) for j in self.byzantine}
        faulty |= {str(k.party) for k in kills if k.restart_after is None}
        pending = sorted(kills, key=lambda k: k.at_round)
        restarts: list[tuple[float, Party]] = []
        start = time.monotonic()
        self.start()
        shown = 0
        finished = False
        try:
            while time.monotonic() - start < timeout:
                time.sleep(0.05)
                st = self.statuses()
                for name in st:
                    proc = self.procs.get(_party(name))
                    exited = proc is not None and proc.exitcode is not None
                    if exited and name not in faulty and _party(name) not in self.killed_parties():
                        log = self.cfg.log_path(_party(name))
                        raise ClusterError(f"{name} exited with code {proc.exitcode}; see {log}")
                rounds = [
                    st.get(f"c{c}", {}).get("model_round", 0)
                    for c in range(params.n_c)
                    if f"c{c}" not in faulty
                ]
                best = max(rounds, default=0)
                now = time.monotonic()
                while pending and best >= pending[0].at_round:
                    k = pending.pop(0)
                    self.kill9(k.party)
                    self.killed.append(
                        {"party": str(k.party), "at_round": k.at_round, "t": round(now - start, 3)}
                    )
                    if progress:
                        progress(f"kill -9 {k.party} (pid {self.procs[k.party].pid}) at round {k.at_round}")
                    if k.restart_after is not None:
                        restarts.append((now + k.restart_after, k.party))
                for due, party in list(restarts):
                    if now >= due:
                        restarts.remove((due, party))
                        self.spawn(party)
                        if progress:
                            progress(f"restarted {party} from its store")
                low = min(rounds, default=0)
                if progress and low > shown:
                    shown = low
                    progress(
                        f"round {low}/{params.R}: every correct client holds model {low} "
                        f"({now - start:.1f} s)"
                    )
                aggs = [
                    st.get(f"a{j}", {}).get("model_round", 0)
                    for j in range(params.n_a)
                    if f"a{j}" not in faulty
                ]
                if (
                    not pending
                    and not restarts
                    and low >= params.R
                    and min(aggs, default=params.R) >= params.R
                ):
                    finished = True
                    break
        finally:
            seconds = time.monotonic() - start
            self.stop()
        proxy_stats = dict(self.proxies.stats()) if self.proxies else {}
        return Outcome(
            finished,
            seconds,
            params,
            self.statuses(),
            self.byzantine,
            self.killed,
            sorted(faulty),
            proxy_stats,
        )

    def killed_parties(self) -> list[Party]:
        return [_party(k["party"]) for k in self.killed]


def _party(name: str) -> Party:
    return Party(name[0], int(name[1:]))


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """multiprocessing re-imports the parent's `__main__` in every child it starts (`spawn.prepare`):
    under the `asfl` console script that is the whole CLI (scikit-learn, z3...), seconds of CPU per
    party, which made a cluster take a minute to start on two busy cores. A party needs none of it:
    `target` and `_party_main` are importable by name."""
    main = sys.modules["__main__"]
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


@contextlib.contextmanager
def _foreign_asfl_hidden() -> Iterator[None]:
    """The fork server is a `python -c` process, which puts the current directory first on its
    sys.path and imports the parties' modules from there. Run from a checkout of asfl with the
    package installed (CI: a clean clone, `pip install .`), that finds the checkout's `asfl/`
    folder, the CLI alone, and every party fails with "No module named 'asfl.reference'".
    PYTHONSAFEPATH (Python 3.11) keeps the current directory off its path while it starts."""
    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved


def _party_main(target: Callable[[str, str, int], None], config: str, role: str, index: int) -> None:
    """The body of a party's process: stderr to the cluster's logs/, then `target`."""
    logs = os.path.join(os.path.dirname(config), "logs")
    os.makedirs(logs, exist_ok=True)
    fd = os.open(os.path.join(logs, f"{role}{index}.stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    target(config, role, index)
