"""Lazy offers: an adversary's offer is a cheap description, its payload built only when drawn.

An adversary offers many messages each step (a CERTIFY of every CLUSTER the coalition received, a
CLUSTER of every set it holds T share-sums of, ...) and the scheduler takes one at most, so an
offer carries its sender, its destination and the message's `head` (its kind, round, cluster and
set: what tells offers apart cheaply); the payload (share-sums, interpolations, signatures) is a
`Payload` built on the first read of `msg`, once for every destination it is offered to (issue 12,
"lazy adversaries").

An `Offer` is an `Inject` (spec/world.py), so the scheduler and `step` take it as it is; `built`
gives the plain `Inject` a trace records. Two events are equal as before: offers whose heads
differ are unequal without a build, and the payloads are compared only when the heads agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from asfl.spec.messages import Message, Party
from asfl.spec.world import Event, Inject, World

#: what tells two messages apart without their payloads: kind, round, cluster, set
Head = tuple[type, object, object, object]


def head(msg: Message) -> Head:
    """The head of a built message: its kind, and its round, cluster and set where it has them."""
    return (type(msg), getattr(msg, "r", None), getattr(msg, "i", None), getattr(msg, "members", None))


class Payload:
    """A message not built yet: `build` runs once, on the first call, and its result is kept."""

    __slots__ = ("_build", "_msg")

    def __init__(self, build: Callable[[], Message]) -> None:
        self._build: Callable[[], Message] | None = build
        self._msg: Message | None = None

    def __call__(self) -> Message:
        if self._build is not None:
            self._msg = self._build()
            self._build = None
        assert self._msg is not None
        return self._msg

    @property
    def built(self) -> bool:
        return self._build is None


class Offer(Inject):
    """Byzantine aggregator `sender` may put the message `payload` builds in flight to `dst`; the
    message's head is `head` (so `head(offer.msg) == offer.head`). Reading `msg` builds it."""

    def __init__(self, sender: int, dst: Party, head: Head, payload: Payload) -> None:  # noqa: D107
        self.__dict__.update(sender=sender, dst=dst, head=head, payload=payload)  # frozen: no setattr

    def __getattr__(self, name: str) -> object:
        if name != "msg":
            raise AttributeError(name)
        return self.payload()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Inject):
            return NotImplemented
        if self.sender != other.sender or self.dst != other.dst or self.head != head_of(other):
            return False
        return self.msg == other.msg

    def __hash__(self) -> int:
        return hash((self.sender, self.dst, self.msg))

    def __repr__(self) -> str:
        shown = repr(self.msg) if self.payload.built else f"<{self.head[0].__name__} not built>"
        return f"Offer(sender={self.sender!r}, dst={self.dst!r}, msg={shown})"


def head_of(event: Inject) -> Head:
    """The head of an injection's message, without building an offer's payload."""
    return event.head if isinstance(event, Offer) else head(event.msg)


def offers(sender: int, dsts: Iterable[Party], msg_head: Head, build: Callable[[], Message]) -> list[Offer]:
    """One offer per destination of one message, built at most once for all of them."""
    payload = Payload(build)
    return [Offer(sender, dst, msg_head, payload) for dst in dsts]


def built(event: Event) -> Event:
    """The event a run records: an offer as the plain `Inject` of its built message."""
    return Inject(event.sender, event.dst, event.msg) if isinstance(event, Offer) else event


Sent = dict[Party, dict[Head, list[Message]]]


def coalition_in_flight(world: World) -> Sent:
    """Destination -> head -> the messages Byzantine aggregators sent there that are still in flight."""
    out: Sent = {}
    for e in world.in_flight:
        if e.src.role == "a" and e.src.index in world.byzantine:
            out.setdefault(e.dst, {}).setdefault(head(e.msg), []).append(e.msg)
    return out


def in_flight(sent: Sent, event: Inject) -> bool:
    """Whether the coalition's `event` is still in flight (`sent`: `coalition_in_flight`): an offer
    is built only when a message of its head is on its way to its destination."""
    to_dst = sent.get(event.dst)
    if not to_dst:
        return False
    same = to_dst.get(head_of(event), ())
    if not same:
        return False
    msg = event.msg
    return any(m is msg or m == msg for m in same)
