"""The monitor: what a run did, gathered step by step, for the properties to judge (P1-P9).

It watches worlds, not party internals it should not see: the envelopes each step put in flight
(by correct parties), what reached the coalition (`world.coalition_inbox`), the deliveries that
clients accepted, and each client's release count. The adversary's view (P3) is kept
incrementally in echelon form (`symbolic.Echelon`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from asfl.properties.domains.symbolic import Echelon, Form
from asfl.spec.messages import (
    Certify,
    Cluster,
    Contrib,
    Message,
    ModelMsg,
    ShareSum,
    UnmaskReq,
)
from asfl.spec.world import Deliver, Envelope, World

ResultKey = tuple[int, int, frozenset[int], object]  # (r, i, S, agg digest)


@dataclass(frozen=True)
class Sent:
    """A client's contribution to round r as it left the client (I2, I3)."""

    r: int
    c: int
    r_model: int
    x: Form
    #: whether x carries data, read from the value (x is not the client's noise alone), not from
    #: the client's own flag: a client whose flag and value disagree (data added where I2 forbids
    #: it) would otherwise be judged by its word (issue 13, the mutation pool)
    with_data: bool


@dataclass
class Monitor:
    """Everything the properties need, accumulated over the steps of one run."""

    world0: World
    view: Echelon = field(init=False)
    view_forms: set = field(default_factory=set)
    inbox_seen: int = 0
    contributions: dict[tuple[int, int], Sent] = field(default_factory=dict)
    # (r, i, S) -> correct aggregators that sent a share-sum endorsing S
    share_sums: dict[tuple[int, int, frozenset[int]], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    # (r, i, S, agg) -> correct aggregators that CERTIFIED it (each recomputed agg itself)
    certified_by: dict[ResultKey, set[int]] = field(default_factory=lambda: defaultdict(set))
    accepted: list[tuple[int, int, ModelMsg]] = field(default_factory=list)  # (step, client, MODEL)
    max_released: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    refusals: list[tuple[int, str]] = field(default_factory=list)  # (step, rule) of refused inputs
    #: (client, round) -> result -> the correct aggregators whose CERTIFY of it reached the client
    #: while its contribution to that (round, cluster) was outstanding (I2: it then resolves it)
    certifies_to: dict[tuple[int, int], dict[ResultKey, set[int]]] = field(default_factory=dict)
    steps: int = 0

    def __post_init__(self) -> None:
        self.view = Echelon(self.world0.params.q)

    # -- feeding ------------------------------------------------------------------------
    def observe(self, before: World, after: World) -> None:
        """Account for the step that turned `before` into `after`."""
        self.steps += 1
        last = after.last
        assert last is not None
        if last.refused is not None:
            self.refused_step(after.steps, last.refused.rule)
        byz = after.byzantine
        posted = {e.id: e for e in after.in_flight[len(after.in_flight) - len(last.sent) :]}
        for env in posted.values():
            self._posted(after, env)
        for env in after.coalition_inbox[self.inbox_seen :]:
            self._to_coalition(byz, env.msg)
        self.inbox_seen = len(after.coalition_inbox)
        if isinstance(last.event, Deliver):
            env = next((e for e in before.in_flight if e.id == last.event.msg_id), None)
            if env is not None and env.dst.role == "c" and env.dst.index not in after.crashed:
                if isinstance(env.msg, ModelMsg) and last.refused is None:
                    self.accepted.append((after.steps, env.dst.index, env.msg))
                elif isinstance(env.msg, Certify):
                    self._certify_to_client(before, env)
        for st in after.clients:
            if st.released > self.max_released[st.c]:
                self.max_released[st.c] = st.released

    def _certify_to_client(self, before: World, env: Envelope) -> None:
        """Record a correct aggregator's own CERTIFY that reached a client while the client's
        contribution to that (round, cluster) was outstanding (whatever the client then did)."""
        msg, src, c = env.msg, env.src, env.dst.index
        assert isinstance(msg, Certify)
        if src.role != "a" or src.index in before.byzantine or msg.sig.signer != src.index:
            return
        pending = before.clients[c].outstanding.get(msg.r)
        if pending is not None and pending.cluster == msg.i:
            key = (msg.r, msg.i, msg.members, msg.agg_digest)
            self.certifies_to.setdefault((c, msg.r), {}).setdefault(key, set()).add(src.index)

    def refused_step(self, step: int, rule: str) -> None:
        self.refusals.append((step, rule))

    def _posted(self, world: World, env: Envelope) -> None:
        msg, src = env.msg, env.src
        correct_src = src.role == "c" or src.index not in world.byzantine
        if isinstance(msg, Contrib) and src.role == "c":
            pending = world.clients[msg.c].outstanding.get(msg.r)
            if pending is not None and (msg.r, msg.c) not in self.contributions:
                noise = world.domain.noise(msg.c, pending.r_model, world.rules.noise_variance(world.params))
                with_data = not world.domain.equal(pending.x, noise)
                self.contributions[(msg.r, msg.c)] = Sent(msg.r, msg.c, pending.r_model, pending.x, with_data)
        elif isinstance(msg, ShareSum) and correct_src:
            self.share_sums[(msg.r, msg.i, msg.members)].add(msg.sender)
        elif isinstance(msg, Certify) and correct_src:
            self.certified_by[(msg.r, msg.i, msg.members, msg.agg_digest)].add(msg.sig.signer)
        # public outputs: every CERTIFY and MODEL of a correct party is seen by the adversary (P3)
        if isinstance(msg, Certify | ModelMsg) and correct_src:
            for v in values_in(msg, frozenset()):
                self._see(v)

    def _to_coalition(self, byz: frozenset[int], msg: Message) -> None:
        for v in values_in(msg, byz):
            self._see(v)

    def _see(self, v: object) -> None:
        if isinstance(v, Form) and v.terms and v not in self.view_forms:
            self.view_forms.add(v)
            self.view.add(v)

    # -- derived ------------------------------------------------------------------------
    def revealed(self) -> list[dict]:
        """A basis of the linear functions of client secrets the adversary's view reveals."""
        return self.view.revealed()


def values_in(msg: Message, readers: frozenset[int]) -> Iterator[object]:
    """The values a holder of `msg` reads: masked values, share-sums, aggregates, models, and the
    sealed shares addressed to one of `readers` only (section 5: sealed[j] is readable by j alone)."""
    if isinstance(msg, Contrib):
        yield msg.y
        for s in msg.sealed:
            if s.to in readers:
                yield s.share
    elif isinstance(msg, UnmaskReq):
        for c in msg.contribs:
            yield from values_in(c, readers)
    elif isinstance(msg, ShareSum):
        yield msg.total
    elif isinstance(msg, Cluster):
        for c in msg.contribs:
            yield from values_in(c, readers)
        for s in msg.sums:
            yield s.total
    elif isinstance(msg, Certify):
        yield msg.agg_digest
    elif isinstance(msg, ModelMsg):
        for total, _count in msg.w if isinstance(msg.w, tuple) else ():
            yield total
        for results in msg.proof:
            for res in results:
                yield res.agg


def monitor_worlds(worlds: Sequence[World]) -> Monitor:
    """Replay the monitor over a recorded run (the worlds of a trace)."""
    mon = Monitor(worlds[0])
    for before, after in zip(worlds, worlds[1:], strict=False):
        mon.observe(before, after)
    return mon
