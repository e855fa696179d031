"""One party as an OS process: the spec's pure transitions behind asyncio TCP (PROTOCOL.md section 6).

A correct aggregator applies `aggregator_receive`, a client `client_receive` and, when its training
timer fires, `on_train_done`; nothing of `spec/` changes. Each applied input is logged with the
registers it changed and committed (`store.py`) before any message it causes is sent; a restart
re-applies the log and re-sends what it causes, which the asynchronous model allows (a late message),
and receivers drop exact duplicates (`message_key`).

Links are reliable (section 1): every frame waits in its link's buffer until the receiver
acknowledges it (after committing), and is re-sent on reconnection or when it was lost (`Link`),
so drops by the network, a proxy, or a receiver's crash lose nothing. Messages a party sends itself
(an aggregator is among "all aggregators") go through the same log, not the socket.

A Byzantine aggregator runs a strategy `(World, Envelope) -> list[Inject]` over its own view: a
`World` whose coalition inbox holds every message it received (`spec.world`); it can replay only
signatures it saw and sign only as itself (`codec.CannotSign` otherwise), as `world.forgery` says.

Hostile input: a frame that does not decode (`codec.DecodeError`), is too large, or is refused by
the spec (`ProtocolError`) is dropped with one log line; the server never stops for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from asfl.spec.aggregator import AggregatorState, aggregator_receive, initial_aggregator
from asfl.spec.client import ClientState, client_receive, initial_client, on_train_done
from asfl.spec.context import Context
from asfl.spec.errors import ProtocolError
from asfl.spec.messages import Contrib, Message, Party, aggregator, authenticated_parts
from asfl.spec.world import Envelope, Inject, World, initial_world
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from ..atomic import write_atomic
from .codec import (
    HEADER,
    KIND_ACK,
    KIND_MSG,
    CannotSign,
    Codec,
    DecodeError,
    PublicKeys,
    decode_frame,
    encode_frame,
    message_key,
    new_nonce,
)
from .config import RULES, ClusterConfig, load_private
from .store import Store, StoreError

Strategy = Callable[[World, Envelope], list[Inject]]
RETRANSMIT = 1.0  # seconds an overtaken frame waits before it is re-sent (it was lost)
SILENCE = 2.0  # seconds without any acknowledgement before the oldest frame is re-sent (doubling)
STATUS_EVERY = 0.1

log = logging.getLogger("asfl.runtime")


class FrameTooLarge(ValueError):
    pass


async def read_payload(reader: asyncio.StreamReader, max_frame: int) -> bytes:
    """One frame's payload; `FrameTooLarge` when its announced length exceeds the cap (the stream
    cannot be resynchronised after that: the connection is closed)."""
    head = await reader.readexactly(HEADER.size)
    (length,) = HEADER.unpack(head)
    if length > max_frame or length == 0:
        raise FrameTooLarge(f"announced frame of {length} bytes (cap {max_frame})")
    return await reader.readexactly(length)


def public_keys(cfg: ClusterConfig) -> PublicKeys:
    return PublicKeys(
        sign={p: Ed25519PublicKey.from_public_bytes(pc.sign_public) for p, pc in cfg.parties.items()},
        kx={
            p.index: X25519PublicKey.from_public_bytes(pc.kx_public)
            for p, pc in cfg.parties.items()
            if pc.kx_public is not None
        },
    )


def registers_changed(old: Any, new: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The durable registers an input changed: (write-once, counters) (store.py)."""
    once: dict[str, str] = {}
    counters: dict[str, str] = {}
    if isinstance(new, AggregatorState):
        for (r, i), members in new.endorsed.items():
            if old.endorsed.get((r, i)) != members:
                once[f"endorsed/{r}/{i}"] = json.dumps(sorted(members))
        for r, i in new.revealed - old.revealed:
            once[f"revealed/{r}/{i}"] = "1"
        if new.model_round != old.model_round:
            counters["model_round"] = str(new.model_round)
    elif isinstance(new, ClientState):
        if new.released != old.released:
            counters["released"] = str(new.released)
        if new.model_round != old.model_round:
            counters["model_round"] = str(new.model_round)
    return once, counters


class _Pending:
    """A frame in a link's buffer until acknowledged."""

    __slots__ = ("frame", "seq", "written_at", "overtaken_at", "wait")

    def __init__(self, frame: bytes, seq: int) -> None:
        self.frame, self.seq = frame, seq
        self.written_at: float | None = None
        self.overtaken_at: float | None = None  # when a frame written after it was acknowledged
        self.wait = SILENCE


class Link:
    """The reliable link to one peer: a buffer of unacknowledged frames and a reconnecting socket.

    A receiver acknowledges the frames of one connection in order, so a frame still unacknowledged
    `RETRANSMIT` seconds after a later one was acknowledged was lost (by a proxy): it is re-sent. A
    link's oldest frame is also re-sent after `SILENCE` seconds without any acknowledgement
    (doubling), and every unacknowledged frame on reconnection. A slow receiver is not flooded: on
    one live connection, frames are re-sent only when lost or, one at a time, when all is silent."""

    def __init__(self, node: Node, dst: Party) -> None:
        self.node, self.dst = node, dst
        pc = node.cfg.parties[dst]
        self.host, self.port = pc.host, pc.dial_port
        self.unacked: dict[bytes, _Pending] = {}  # nonce -> frame
        self.next_seq = 0
        self.last_ack = 0.0
        self.writer: asyncio.StreamWriter | None = None
        self.task = asyncio.ensure_future(self.run())

    def send(self, frame: bytes, nonce: bytes) -> None:
        entry = self.unacked[nonce] = _Pending(frame, self.next_seq)
        self.next_seq += 1
        self.node.stats["bytes_first_sent"] += len(frame)
        if self.writer is not None:
            self._write(entry)

    def _write(self, entry: _Pending) -> None:
        assert self.writer is not None
        self.writer.write(entry.frame)
        self.node.stats["bytes_sent"] += len(entry.frame)
        self.node.stats["frames_sent"] += 1
        if entry.written_at is not None:
            self.node.stats["bytes_resent"] += len(entry.frame)
            self.node.stats["retransmitted"] += 1
        entry.written_at = time.monotonic()
        entry.overtaken_at = None

    def acknowledged(self, nonce: bytes) -> None:
        done = self.unacked.pop(nonce, None)
        if done is None:
            return
        now = self.last_ack = time.monotonic()
        for entry in self.unacked.values():
            if entry.seq < done.seq and entry.written_at is not None and entry.overtaken_at is None:
                entry.overtaken_at = now

    def retransmit(self, now: float) -> None:
        if self.writer is None:
            return
        written = [e for e in self.unacked.values() if e.written_at is not None]
        for entry in written:
            if entry.overtaken_at is not None and now - entry.overtaken_at >= RETRANSMIT:
                self._write(entry)  # lost: a later frame was acknowledged, not this one
        oldest = min(written, key=lambda e: e.seq, default=None)
        # a receiver with megabytes to get through is slow, not gone: allow it a second per MB
        backlog = sum(len(e.frame) for e in written) / 1e6
        if oldest is not None and now - max(oldest.written_at or 0.0, self.last_ack) >= oldest.wait + backlog:
            oldest.wait = min(2 * oldest.wait, 16 * SILENCE)  # nothing acknowledged for a while
            self._write(oldest)

    async def run(self) -> None:
        backoff = 0.02
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 0.5)
                continue
            backoff = 0.02
            self.writer = writer
            for entry in sorted(self.unacked.values(), key=lambda e: e.seq):
                self._write(entry)
            try:
                while True:
                    payload = await read_payload(reader, self.node.cfg.max_frame)
                    try:
                        frame = decode_frame(
                            payload, self.node.keys, self.node.party, self.node.cfg.max_frame
                        )
                    except DecodeError as e:
                        self.node.dropped(f"ack from {self.dst}: {e}")
                        continue
                    if frame.src == self.dst and frame.kind == KIND_ACK:
                        self.acknowledged(frame.body)
            except (asyncio.IncompleteReadError, ConnectionError, FrameTooLarge, OSError):
                pass
            finally:
                self.writer = None
                writer.close()
            await asyncio.sleep(backoff)


class Node:
    def __init__(
        self,
        cfg: ClusterConfig,
        party: Party,
        strategy: Strategy | None = None,
        exit_when_orphaned: bool = False,
    ) -> None:
        if party not in cfg.parties:
            raise ValueError(f"{party} is not in {cfg.path}")
        self.cfg, self.party, self.params = cfg, party, cfg.params
        priv = load_private(cfg, party)
        self.sign_key = priv.sign
        self.keys = public_keys(cfg)
        self.codec = Codec(cfg.params, party, self.keys, priv.sign, priv.kx)
        self.ctx = Context(cfg.params, cfg.domain(), RULES)
        self.byzantine = party.role == "a" and party.index in cfg.byzantine
        if self.byzantine and strategy is None:
            raise ValueError(f"{party} is Byzantine in {cfg.path}: it needs a strategy")
        self.strategy = strategy
        self.state: Any = None
        self.world: World | None = None
        self.seen: set[tuple[Party, bytes]] = set()
        self.nonces: set[tuple[Party, bytes]] = set()
        self.links: dict[Party, Link] = {}
        self.stats: Counter = Counter()
        self.refused: Counter = Counter()
        self.local: deque[bytes] = deque()  # bodies this party sent itself, applied after the current input
        self._draining = False
        self.dirty = True
        self.recovered = 0
        self._train: asyncio.TimerHandle | None = None
        self._rng = random.Random(f"{cfg.seed}/{party}/{os.getpid()}")
        self.store: Store | None = None
        self.listening = asyncio.Event()
        # a party forked by `asfl cluster up` stops when its orchestrator is gone (never a stray process)
        self.exit_when_orphaned = exit_when_orphaned
        self._parent = os.getppid()
        self.stopping = asyncio.Event()

    # -- logging and status ------------------------------------------------------------------
    def dropped(self, why: str) -> None:
        self.stats["bad_frames"] += 1
        log.warning("%s dropped a frame: %s", self.party, why)

    def status(self) -> dict[str, Any]:
        st = self.state
        out: dict[str, Any] = {
            "party": str(self.party),
            "pid": os.getpid(),
            "byzantine": self.byzantine,
            "strategy": self.cfg.parties[self.party].strategy,
            "recovered_inputs": self.recovered,
            "stats": dict(self.stats),
            "refused": dict(self.refused),
            "time": time.time(),
        }
        if isinstance(st, AggregatorState):
            out["model_round"] = st.model_round
            out["model_digest"] = str(self.ctx.domain.model_digest(st.model))
            out["endorsed"] = len(st.endorsed)
            out["certified"] = sorted([r, i, sorted(s), str(d)] for r, i, s, d in st.certified)
        elif isinstance(st, ClientState):
            out["model_round"] = st.model_round
            out["model_digest"] = str(self.ctx.domain.model_digest(st.model))
            out["released"] = st.released
        return out

    def write_status(self) -> None:
        write_atomic(self.cfg.status_path(self.party), json.dumps(self.status()))
        self.dirty = False

    # -- inputs ------------------------------------------------------------------------------
    def _initial(self) -> None:
        if self.byzantine:
            self.world = initial_world(self.params, self.ctx.domain, [self.party.index], RULES)
        elif self.party.role == "a":
            self.state = initial_aggregator(self.ctx, self.party.index)
        else:
            self.state = initial_client(self.ctx, self.party.index)

    def recover(self) -> list[tuple[Party, Message]]:
        """Re-apply the logged inputs (the state is their fold) and check the registers agree;
        return every message they caused, to be sent again."""
        assert self.store is not None
        sends: list[tuple[Party, Message]] = []
        for inp in self.store.inputs():
            if inp.kind == "train":
                try:
                    self.state, out = on_train_done(self.ctx, self.state)
                except ProtocolError as e:
                    raise StoreError(f"logged training {inp.seq} is refused on recovery ({e})") from e
            else:
                assert inp.src_role is not None and inp.src_index is not None and inp.body is not None
                src = Party(inp.src_role, inp.src_index)
                msg = self.codec.decode(inp.body)
                self.seen.add((src, message_key(msg)))
                if self.byzantine:
                    self._observe(src, msg)
                    continue
                try:
                    self.state, out = self._receive(src, msg)
                except ProtocolError as e:
                    raise StoreError(f"logged input {inp.seq} is refused on recovery ({e})") from e
            sends += out
            self.recovered += 1
        regs = self.store.registers()
        if isinstance(self.state, AggregatorState):
            for (r, i), members in self.state.endorsed.items():
                if regs.get(f"endorsed/{r}/{i}") != json.dumps(sorted(members)):
                    raise StoreError(f"register endorsed/{r}/{i} disagrees with the log")
        if isinstance(self.state, ClientState) and self.recovered:
            if regs.get("released", "0") != str(self.state.released):
                raise StoreError("register released disagrees with the log")
        return sends

    def _receive(self, src: Party, msg: Message) -> tuple[Any, list]:
        if self.party.role == "a":
            return aggregator_receive(self.ctx, self.state, src, msg)
        return client_receive(self.ctx, self.state, src, msg)

    def handle(self, src: Party, body: bytes) -> None:
        """Apply one delivered message (the body of a verified frame)."""
        msg = self.codec.decode(body)
        key = message_key(msg)
        if (src, key) in self.seen:
            self.stats["duplicates"] += 1
            return
        assert self.store is not None
        if self.byzantine:
            self.store.append("msg", (src.role, src.index), key, body, {}, {})
            self.seen.add((src, key))
            self.dirty = True
            self._react(self._observe(src, msg))
            return
        try:
            new, sends = self._receive(src, msg)
        except ProtocolError as e:
            self.refused[e.rule] += 1
            self.dirty = True
            log.info("%s refused %s from %s: %s", self.party, type(msg).__name__, src, e)
            return
        once, counters = registers_changed(self.state, new)
        self.store.append("msg", (src.role, src.index), key, body, once, counters)
        self.state = new
        self.seen.add((src, key))
        self.stats["applied"] += 1
        self.dirty = True
        self.send_all(sends)
        self._schedule_training()

    def _observe(self, src: Party, msg: Message) -> Envelope:
        """Put a delivered message in the coalition's inbox of this Byzantine aggregator's view."""
        w = self.world
        assert w is not None
        env = Envelope(w.next_id, src, self.party, msg)
        self.world = replace(
            w,
            next_id=w.next_id + 1,
            coalition_inbox=w.coalition_inbox + (env,),
            coalition_seen=w.coalition_seen | frozenset(authenticated_parts(msg)),
            steps=w.steps + 1,
        )
        return env

    def _react(self, env: Envelope) -> None:
        assert self.strategy is not None and self.world is not None
        for inj in self.strategy(self.world, env):
            if inj.sender != self.party.index or inj.dst == self.party:
                continue
            w = self.world
            # what it sent stays "in flight" in its view, so an offering strategy moves on
            self.world = replace(
                w,
                next_id=w.next_id + 1,
                in_flight=w.in_flight + (Envelope(w.next_id, self.party, inj.dst, inj.msg),),
            )
            self.stats["injected"] += 1
            self.send_all([(inj.dst, inj.msg)])

    def _train_done(self) -> None:
        self._train = None
        st = self.state
        if not isinstance(st, ClientState) or st.training is None:
            return
        try:
            new, sends = on_train_done(self.ctx, st)
        except ProtocolError as e:
            self.refused[e.rule] += 1
            return
        once, counters = registers_changed(st, new)
        assert self.store is not None
        self.store.append("train", None, None, None, once, counters)
        self.state = new
        self.dirty = True
        self.send_all(sends)
        self._schedule_training()

    def _schedule_training(self) -> None:
        st = self.state
        if isinstance(st, ClientState) and st.training is not None and self._train is None:
            duration = self.cfg.train_time * self._rng.lognormvariate(0.0, 0.3)
            self._train = asyncio.get_running_loop().call_later(duration, self._train_done)

    # -- output ------------------------------------------------------------------------------
    def send_all(self, sends: list[tuple[Party, Message]]) -> None:
        bodies: dict[int, bytes] = {}
        for dst, msg in sends:
            body = bodies.get(id(msg))
            if body is None:
                try:
                    body = bodies[id(msg)] = self.codec.encode(msg)
                except CannotSign as e:
                    self.stats["cannot_sign"] += 1
                    log.info("%s cannot send %s: %s", self.party, type(msg).__name__, e)
                    continue
            self.stats["msgs_sent"] += 1
            if isinstance(msg, Contrib):
                self.stats["contributions"] += 1
            if dst == self.party:
                self.local.append(body)
                continue
            link = self.links.get(dst)
            if link is None:
                link = self.links[dst] = Link(self, dst)
            nonce = new_nonce()
            link.send(encode_frame(self.sign_key, self.party, dst, KIND_MSG, body, nonce), nonce)
        if self._draining:
            return
        self._draining = True  # messages to itself are applied in order by the outermost call
        try:
            while self.local:
                self.handle(self.party, self.local.popleft())
        finally:
            self._draining = False

    # -- server ------------------------------------------------------------------------------
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    payload = await read_payload(reader, self.cfg.max_frame)
                except FrameTooLarge as e:
                    self.dropped(str(e))
                    break
                self.stats["bytes_received"] += HEADER.size + len(payload)
                try:
                    frame = decode_frame(payload, self.keys, self.party, self.cfg.max_frame)
                except DecodeError as e:
                    self.dropped(str(e))
                    continue
                if frame.kind != KIND_MSG:
                    self.dropped(f"unexpected frame kind {frame.kind} from {frame.src}")
                    continue
                if (frame.src, frame.nonce) in self.nonces:
                    self.stats["replayed_frames"] += 1
                else:
                    self.nonces.add((frame.src, frame.nonce))
                    try:
                        self.handle(frame.src, frame.body)
                    except DecodeError as e:
                        self.dropped(f"from {frame.src}: {e}")
                    except StoreError:
                        raise
                    except Exception as e:  # never let one message stop the server; say what it was
                        self.dropped(f"from {frame.src}: {type(e).__name__}: {e}")
                # acknowledged once applied and committed (or refused for good)
                ack = encode_frame(self.sign_key, self.party, frame.src, KIND_ACK, frame.nonce, new_nonce())
                self.stats["ack_bytes"] += len(ack)
                writer.write(ack)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(STATUS_EVERY)
            now = time.monotonic()
            for link in self.links.values():
                link.retransmit(now)
            if self.dirty:
                self.write_status()
            if self.exit_when_orphaned and os.getppid() != self._parent:
                log.warning("%s: its orchestrator is gone; stopping", self.party)
                self.stopping.set()

    async def run(self, signals: bool = True) -> None:
        """Recover from the store, listen, re-send what recovery caused, and serve until SIGTERM
        (or `stop()`, for a party run inside another program)."""
        self.store = Store(self.cfg.store_path(self.party))
        self._initial()
        resend = self.recover()
        pc = self.cfg.parties[self.party]
        server = await asyncio.start_server(self._on_connection, pc.host, pc.port)
        self.stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        if signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stopping.set)
            loop.set_exception_handler(_quiet_cancellation)
        self.write_status()
        self.send_all(resend)
        self._schedule_training()
        house = asyncio.ensure_future(self._housekeeping())
        self.listening.set()
        try:
            await self.stopping.wait()
        finally:
            house.cancel()
            server.close()
            for link in self.links.values():
                link.task.cancel()
            self.write_status()
            self.store.close()

    def stop(self) -> None:
        self.stopping.set()


def _quiet_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if not isinstance(context.get("exception"), asyncio.CancelledError):
        loop.default_exception_handler(context)


def serve_party(config: str, role: str, index: int) -> None:
    """Run party (role, index) of the cluster file `config` (a correct party: no strategies here)."""
    from .config import load

    serve(load(config), Party(role, index), exit_when_orphaned=True)


def serve(
    cfg: ClusterConfig, party: Party, strategy: Strategy | None = None, exit_when_orphaned: bool = False
) -> None:
    """Run `party` until SIGTERM; its log lines go to the cluster directory's logs/."""
    path = cfg.log_path(party)
    path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True
    )
    node = Node(cfg, party, strategy, exit_when_orphaned)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(node.run())


__all__ = ["Node", "serve", "aggregator"]
