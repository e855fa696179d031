"""The whole system: parties, in-flight messages, faults so far (ARCHITECTURE.md, "World").

`enabled(world, adversary)` lists what may happen next; `step(world, event)` applies one event and
returns the next world. Everything that drives the protocol (the Hypothesis schedulers, the
exhaustive explorer, the simulator) is a scheduler choosing among `enabled(world)`.

Events: delivery of one in-flight message (the network is asynchronous: any order), the end of a
client's training, a client crash (at most t_c), and a Byzantine send. Deliveries to a Byzantine
aggregator go to the coalition's inbox (what the adversary sees); a Byzantine send may carry only
signatures of Byzantine aggregators and signed parts the coalition has seen (ideal signatures).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from .aggregator import AggregatorState, aggregator_receive, initial_aggregator
from .client import ClientState, client_receive, initial_client, on_train_done
from .context import Context
from .domain import Domain
from .errors import ProtocolError
from .messages import Contrib, Message, Party, Sig, aggregator, authenticated_parts, client
from .params import Params
from .rules import STANDARD, Rules


@dataclass(frozen=True)
class Deliver:
    msg_id: int


@dataclass(frozen=True)
class Envelope:
    """A message in flight, with the id a schedule names it by."""

    id: int
    src: Party
    dst: Party
    msg: Message
    # the event that delivers it, made once: `enabled` lists it at every step
    deliver: Deliver = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deliver", Deliver(self.id))


@dataclass(frozen=True)
class TrainDone:
    client: int


@dataclass(frozen=True)
class Crash:
    client: int


@dataclass(frozen=True)
class Inject:
    """Byzantine aggregator `sender` puts `msg` in flight to `dst`."""

    sender: int
    dst: Party
    msg: Message


Event = Deliver | TrainDone | Crash | Inject


@dataclass(frozen=True)
class Outcome:
    """What the last event did: the ids it put in flight, or the rule that refused it."""

    event: Event
    sent: tuple[int, ...] = ()
    refused: ProtocolError | None = field(default=None, compare=False)

    @property
    def refused_rule(self) -> str | None:
        return self.refused.rule if self.refused else None


@dataclass(frozen=True)
class World:
    ctx: Context = field(compare=False, hash=False, repr=False)
    clients: tuple[ClientState, ...]
    aggregators: tuple[AggregatorState | None, ...]  # None: a Byzantine aggregator
    byzantine: frozenset[int]
    crashed: frozenset[int]
    in_flight: tuple[Envelope, ...]
    next_id: int
    coalition_inbox: tuple[Envelope, ...]  # every message delivered to a Byzantine aggregator
    coalition_seen: frozenset[Sig | Contrib]  # signed parts the coalition may replay
    steps: int = 0
    last: Outcome | None = None

    @property
    def params(self) -> Params:
        return self.ctx.params

    @property
    def domain(self) -> Domain:
        return self.ctx.domain

    @property
    def rules(self) -> Rules:
        return self.ctx.rules


class InvalidEvent(ValueError):
    """The event is not enabled in this world (a scheduler or adversary bug, not a protocol one)."""


Adversary = Callable[[World], Iterable[Inject]]


def initial_world(
    params: Params, domain: Domain, byzantine: Iterable[int] = (), rules: Rules = STANDARD
) -> World:
    """Every party in its initial state, nothing in flight; `byzantine` names at most t_a
    aggregators, which the adversary drives (`Inject`)."""
    ctx = Context(params, domain, rules)
    byz = frozenset(byzantine)
    if len(byz) > params.t_a or not all(0 <= b < params.n_a for b in byz):
        raise ValueError(f"at most t_a={params.t_a} Byzantine aggregators among 0..{params.n_a - 1}")
    return World(
        ctx=ctx,
        clients=tuple(initial_client(ctx, c) for c in range(params.n_c)),
        aggregators=tuple(None if j in byz else initial_aggregator(ctx, j) for j in range(params.n_a)),
        byzantine=byz,
        crashed=frozenset(),
        in_flight=(),
        next_id=0,
        coalition_inbox=(),
        coalition_seen=frozenset(),
    )


def enabled(world: World, adversary: Adversary | None = None) -> list[Event]:
    """Every event that may happen next: deliveries in any order, trainings, crashes (at most
    t_c), and what the adversary offers."""
    events: list[Event] = [env.deliver for env in world.in_flight]
    events += [
        TrainDone(st.c) for st in world.clients if st.training is not None and st.c not in world.crashed
    ]
    if len(world.crashed) < world.params.t_c:
        events += [Crash(c) for c in range(world.params.n_c) if c not in world.crashed]
    if adversary is not None:
        events += list(adversary(world))
    return events


def _post(world: World, src: Party, sends: Iterable[tuple[Party, Message]]) -> tuple[World, tuple[int, ...]]:
    envs = tuple(Envelope(world.next_id + k, src, dst, msg) for k, (dst, msg) in enumerate(sends))
    ids = tuple(e.id for e in envs)
    return _evolve(world, in_flight=world.in_flight + envs, next_id=world.next_id + len(envs)), ids


def forgery(world: World, sender: int, msg: Message) -> Sig | Contrib | None:
    """The first signed part of `msg` the coalition could not have produced, if any."""
    for part in authenticated_parts(msg):
        if isinstance(part, Sig) and part.signer in world.byzantine:
            continue
        if part not in world.coalition_seen:
            return part
    return None


def _deliver(world: World, env: Envelope) -> tuple[World, tuple[int, ...], ProtocolError | None]:
    ctx, dst = world.ctx, env.dst
    if dst.role == "a" and dst.index in world.byzantine:
        seen = world.coalition_seen | frozenset(authenticated_parts(env.msg))
        return (
            _evolve(world, coalition_inbox=world.coalition_inbox + (env,), coalition_seen=seen),
            (),
            None,
        )
    if dst.role == "c" and dst.index in world.crashed:
        return world, (), ProtocolError("crash", f"client {dst.index} crashed; message lost")
    try:
        if dst.role == "c":
            cst, sends = client_receive(ctx, world.clients[dst.index], env.src, env.msg)
            world = _evolve(world, clients=_put(world.clients, dst.index, cst))
        else:
            ast = world.aggregators[dst.index]
            assert ast is not None
            new, sends = aggregator_receive(ctx, ast, env.src, env.msg)
            world = _evolve(world, aggregators=_put(world.aggregators, dst.index, new))
    except ProtocolError as refusal:
        return world, (), refusal
    world, ids = _post(world, dst, sends)
    return world, ids, None


def _evolve(world: World, **changes: object) -> World:
    """`dataclasses.replace` for the world, without re-running `__init__` (it has no checks to
    re-run): every step makes several worlds, and `replace` introspects the fields each time."""
    new = object.__new__(World)
    new.__dict__.update(world.__dict__)
    new.__dict__.update(changes)
    return new


def _envelope_id(env: Envelope) -> int:
    return env.id


def _put(items: tuple, index: int, value: object) -> tuple:
    return items[:index] + (value,) + items[index + 1 :]


def step(world: World, event: Event) -> World:
    """Apply one event. A refused input leaves the parties unchanged and is recorded in
    `world.last.refused` (with the rule that refused it); an event that is not enabled raises."""
    refused: ProtocolError | None = None
    sent: tuple[int, ...] = ()
    if isinstance(event, Deliver):
        # in_flight is kept in increasing id order: find by bisection, remove by slicing
        k = bisect_left(world.in_flight, event.msg_id, key=_envelope_id)
        if k == len(world.in_flight) or world.in_flight[k].id != event.msg_id:
            raise InvalidEvent(f"message {event.msg_id} is not in flight")
        env = world.in_flight[k]
        world = _evolve(world, in_flight=world.in_flight[:k] + world.in_flight[k + 1 :])
        world, sent, refused = _deliver(world, env)
    elif isinstance(event, TrainDone):
        c = event.client
        if not 0 <= c < world.params.n_c or c in world.crashed or world.clients[c].training is None:
            raise InvalidEvent(f"client {c} is not training")
        cst, sends = on_train_done(world.ctx, world.clients[c])
        world = _evolve(world, clients=_put(world.clients, c, cst))
        world, sent = _post(world, client(c), sends)
    elif isinstance(event, Crash):
        c = event.client
        if c in world.crashed or len(world.crashed) >= world.params.t_c or not 0 <= c < world.params.n_c:
            raise InvalidEvent(f"client {c} may not crash (t_c={world.params.t_c})")
        world = _evolve(world, crashed=world.crashed | {c})
    elif isinstance(event, Inject):
        if event.sender not in world.byzantine:
            raise InvalidEvent(f"aggregator {event.sender} is not Byzantine")
        forged = forgery(world, event.sender, event.msg)
        if forged is not None:
            raise InvalidEvent(f"the coalition cannot produce {forged!r} (ideal signatures)")
        world, sent = _post(world, aggregator(event.sender), [(event.dst, event.msg)])
    else:
        raise InvalidEvent(f"unknown event {event!r}")
    return _evolve(world, steps=world.steps + 1, last=Outcome(event, sent, refused))


def correct_aggregators(world: World) -> list[AggregatorState]:
    return [a for a in world.aggregators if a is not None]


def correct_clients(world: World) -> list[ClientState]:
    return [c for c in world.clients if c.c not in world.crashed]


def finished(world: World) -> bool:
    """P5's goal: every correct aggregator completed round R and every correct client holds model R."""
    R = world.params.R
    return all(a.model_round == R for a in correct_aggregators(world)) and all(
        c.model_round == R for c in correct_clients(world)
    )


ResultKey = tuple[int, int, frozenset[int], Hashable]  # (r, i, S, hash(agg))


def certified_by(world: World) -> dict[ResultKey, frozenset[int]]:
    """Every cluster result some correct aggregator certified, with the correct aggregators that
    did (each recomputed agg itself: its own `certified`)."""
    out: dict[ResultKey, set[int]] = {}
    for a in correct_aggregators(world):
        for key in a.certified:
            out.setdefault(key, set()).add(a.j)
    return {key: frozenset(signers) for key, signers in out.items()}


def holds_certificate(world: World, correct_signers: Iterable[int]) -> bool:
    """Whether a cluster result certified by `correct_signers` holds a certificate by the protocol's
    number (Q6: t_a + 1 CERTIFY signatures, `Params.certificate_size`), whatever the rule table under
    test says, counting the coalition's signatures as given (it signs anything). The one threshold
    the properties judge by and the simulator reports by."""
    signers = frozenset(correct_signers)
    return bool(signers) and len(signers) + len(world.byzantine) >= world.params.certificate_size


def certified_results(world: World) -> dict[ResultKey, frozenset[int]]:
    """The cluster results of `world` that hold a certificate (`holds_certificate`), with their
    correct certifiers."""
    return {key: signers for key, signers in certified_by(world).items() if holds_certificate(world, signers)}
