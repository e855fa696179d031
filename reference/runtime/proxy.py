"""A loopback fault proxy in front of one party: delays, drops and reorders its inbound frames.

It listens on the port the party's peers dial and forwards to the party's own port. Frames towards
the party (length-prefixed, `codec.py`) are each held for a uniform delay in [0, `delay`] seconds
(so later frames overtake earlier ones: reordering) or dropped with probability `drop`; replies
(acknowledgements) pass through. Reliable links (`node.Link`) re-send what was dropped, so the
network stays reliable and asynchronous, as section 1 assumes.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from dataclasses import dataclass

from .codec import HEADER


@dataclass(frozen=True)
class Faults:
    delay: float = 0.0  # seconds, upper bound of the uniform delay per frame
    drop: float = 0.0  # probability that a frame is dropped
    seed: int = 0

    @property
    def active(self) -> bool:
        return self.delay > 0 or self.drop > 0


class Proxy:
    def __init__(self, listen_port: int, target_port: int, faults: Faults, max_frame: int, name: str) -> None:
        self.listen_port, self.target_port = listen_port, target_port
        self.faults, self.max_frame = faults, max_frame
        self.rng = random.Random(f"{faults.seed}/{name}")
        self.stats: Counter = Counter()

    async def start(self) -> asyncio.AbstractServer:
        return await asyncio.start_server(self._connection, "127.0.0.1", self.listen_port)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        back = asyncio.ensure_future(self._pipe(up_reader, writer))
        # the party went away (killed): close the sender's side too, so its link reconnects
        back.add_done_callback(lambda _: writer.close())
        loop = asyncio.get_running_loop()

        def forward(frame: bytes) -> None:
            if not up_writer.is_closing():
                up_writer.write(frame)

        try:
            while True:
                head = await reader.readexactly(HEADER.size)
                (length,) = HEADER.unpack(head)
                if length > self.max_frame:  # not ours to judge: pass it on and stop parsing
                    forward(head)
                    await self._pipe(reader, up_writer)
                    break
                frame = head + await reader.readexactly(length)
                if self.rng.random() < self.faults.drop:
                    self.stats["dropped"] += 1
                    continue
                self.stats["forwarded"] += 1
                delay = self.rng.uniform(0.0, self.faults.delay)
                if delay > 0:
                    loop.call_later(delay, forward, frame)
                else:
                    forward(frame)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            await asyncio.sleep(self.faults.delay)  # let delayed frames out before closing
            up_writer.close()
            writer.close()
            back.cancel()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
        except (ConnectionError, OSError):
            pass


class ProxyThread:
    """Every proxy of a cluster, on one event loop in a background thread of the orchestrator."""

    def __init__(self, proxies: list[Proxy]) -> None:
        self.proxies = proxies
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        servers = [self.loop.run_until_complete(p.start()) for p in self.proxies]
        self.ready.set()
        self.loop.run_forever()
        for s in servers:
            s.close()

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def stats(self) -> Counter:
        total: Counter = Counter()
        for p in self.proxies:
            total.update(p.stats)
        return total
