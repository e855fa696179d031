"""Coverage of a search: what its runs reached, so that a property that held says how much it was tried.

After a search (`asfl check`, an audit) the coverage report says, counted in runs (a run counts once
for each thing it reached, so reports of work units add up in any order):
  - `rules`: which rules of the rule table (`spec/rules.py`) fired, and with which answer: accepted
    or refused (`endorse_problem`, `model_problem`, I1, I3 freshness), a set fixed or still waited
    for, a late contribution carried over (I3) or too stale to be (past s_max), a release taken back
    (I2), ...;
  - `refusals`: the PROTOCOL.md rule named by each refused input (I1, Q2 write-once, A1, certify ...);
  - `offers`: which adversary strategies the swarm drew, which kinds of chaos event were taken
    (a push of the coordinator strategy, a delivery of the coalition's sends, ...) and which
    messages the coalition injected;
  - `messages`: which message kinds were delivered and accepted, or refused;
  - `phases`: protocol milestones (a contribution noise only, a set that leaves out a contributor
    (censored), a REVEAL of such a set, a carry-over, a take-back, a certified result, an accepted
    model, every correct party finished, a stuck fair phase);
  - `states`: the distinct abstract states seen (`abstract_state`), as 64-bit digests that are the
    same in every process, so their union over work units counts them once. Only the
    `STATE_SKETCH` smallest digests are kept (a k-minimum-values sketch): the count is exact below
    that many states and estimated above it (error about 1/sqrt(STATE_SKETCH) = 0.4%), and a long
    campaign's report stays the same size, whatever the order its units are merged in.
Which properties were exercised is not recomputed here: the search's `exercised` counts
(`checks.exercised`, the one implementation) are shown beside this report, and a property that held
on runs none of which exercised it is vacuous (`vacuous`).
"""

from __future__ import annotations

import hashlib
import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from asfl.spec.aggregator import AggregatorState
from asfl.spec.client import ClientState
from asfl.spec.messages import Reveal
from asfl.spec.rules import Rules
from asfl.spec.world import Crash, Deliver, Event, Inject, TrainDone, World, finished

#: how an answer of each rule reads: (label when it passes, label otherwise, passes = `is None`
#: (a problem-returning rule) rather than truth); a rule not named here is "consulted" whatever it
#: returns
_ANSWERS: dict[str, tuple[str, str, bool]] = {
    "i1_may_contribute": ("accepted", "refused", False),
    "i1_coordinator_accepts": ("accepted", "refused", False),
    "i2_releases_data": ("with data", "noise only", False),
    "i2_take_back": ("taken back", "kept", False),
    "i3_fresh_enough": ("fresh", "too stale", False),
    "i3_carry_round": ("too stale (past s_max)", "carried over", True),
    "fix_set": ("waits", "fixed", True),
    "endorse_problem": ("accepted", "refused", True),
    "cluster_ready": ("ready", "waits", False),
    "share_sum_verifies": ("verifies", "refused", False),
    "model_problem": ("accepted", "refused", True),
}


#: rules that answer with one of a few labels (the label is the answer; spelled here, not imported
#: from the spec, so that the judge also runs an older spec/ without the rule: the spec-diff audit's
#: baseline side)
_NAMED_ANSWERS: dict[str, tuple[str, ...]] = {"i3_noise_carry": ("as noise", "as data", "dropped")}


def answers(name: str) -> tuple[str, ...]:
    """The answers of a rule the report tells apart."""
    if name in _NAMED_ANSWERS:
        return _NAMED_ANSWERS[name]
    if name not in _ANSWERS:
        return ("consulted",)
    yes, no, _ = _ANSWERS[name]
    return (yes, no)


def _label(name: str) -> Callable[[Any], str]:
    """The answer's key in `Coverage.rules` ("rule: answer"), built once per rule, not per call."""
    if name in _NAMED_ANSWERS:
        return lambda answer: f"{name}: {answer}"
    if name not in _ANSWERS:
        consulted = f"{name}: consulted"
        return lambda _answer: consulted
    yes, no, is_none = (f"{name}: {a}" if isinstance(a, str) else a for a in _ANSWERS[name])
    if is_none:
        return lambda answer: yes if answer is None else no
    return lambda answer: yes if answer else no


@dataclass
class Coverage:
    """What the runs of a search reached, each count in runs (see the module docstring)."""

    runs: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    offers: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    states: set[int] = field(default_factory=set)

    def merge(self, other: Coverage) -> Coverage:
        """The coverage of both searches (sums and a union: the order of merging does not matter)."""
        return Coverage(
            self.runs + other.runs,
            self.rules + other.rules,
            self.refusals + other.refusals,
            self.offers + other.offers,
            self.messages + other.messages,
            self.phases + other.phases,
            _smallest(self.states | other.states),
        )

    def absorb(self, other: Coverage) -> None:
        """Add `other` to this report in place (`merge` without copying: a driver absorbs every
        unit's report, and copying the state set each time would grow with the search)."""
        self.runs += other.runs
        self.rules.update(other.rules)
        self.refusals.update(other.refusals)
        self.offers.update(other.offers)
        self.messages.update(other.messages)
        self.phases.update(other.phases)
        self.states |= other.states
        self.states = _smallest(self.states)

    def to_json(self) -> dict:
        return {
            "runs": self.runs,
            "rules": dict(sorted(self.rules.items())),
            "refusals": dict(sorted(self.refusals.items())),
            "offers": dict(sorted(self.offers.items())),
            "messages": dict(sorted(self.messages.items())),
            "phases": dict(sorted(self.phases.items())),
            "distinct_states": self.distinct_states(),
            "distinct_states_estimated": len(self.states) >= STATE_SKETCH,
        }

    def distinct_states(self) -> int:
        """The number of distinct abstract states: exact below `STATE_SKETCH`, else the k-minimum-
        values estimate (k - 1) / (the k-th smallest digest / 2**64)."""
        if len(self.states) < STATE_SKETCH:
            return len(self.states)
        return round((STATE_SKETCH - 1) * 2**64 / max(self.states))

    def rules_not_fired(self) -> list[str]:
        """The rules of the table no run consulted."""
        fired = {key.split(":")[0] for key in self.rules}
        return [n for n in Rules.names() if n not in fired]


#: the milestones `Probe` records, in the order of a round (a report names those never reached)
PHASES = (
    "a training ended",
    "a client crashed",
    "a contribution noise only (I2 quota spent)",
    "REVEAL of a set that leaves out a contributor",
    "a release taken back (I2)",
    "a contribution carried over (I3)",
    "a carry-over refused past s_max (I3)",
    "a MODEL delivered and accepted",
    "every correct party finished round R",
    "fair phase stuck",
    "fair phase hit its step bound",
)


def _counts(counter: Counter[str], prefix: str = "") -> str:
    items = sorted(((k[len(prefix) :], n) for k, n in counter.items() if k.startswith(prefix)))
    return ", ".join(f"{k} {n}" for k, n in items) or "none"


def coverage_rows(cov: Coverage) -> list[tuple[str, str, str]]:
    """The short report: (what, reached, never reached); counts are runs (of `cov.runs`)."""
    names = Rules.names()
    unseen = [f"{n}: {a}" for n in names for a in answers(n) if f"{n}: {a}" not in cov.rules]
    fired = [n for n in names if any(key.startswith(f"{n}: ") for key in cov.rules)]
    kinds = sorted({k.split(": ")[0] for k in cov.messages})
    refused = sorted({k.split(": ")[0] for k in cov.messages if k.endswith(": refused")})
    strategies = _counts(cov.offers, "strategy: ")
    return [
        ("runs", str(cov.runs), ""),
        ("rules of the table fired", f"{len(fired)} of {len(names)}", ", ".join(unseen)),
        ("inputs refused, by rule", _counts(cov.refusals), ""),
        ("adversary strategies (runs)", strategies, ""),
        ("chaos events taken", _counts(cov.offers, "chaos: "), ""),
        ("messages injected", _counts(cov.offers, "injected: "), ""),
        ("message kinds delivered", f"{len(kinds)}, {len(refused)} of them refused at times", ""),
        (
            "phases reached",
            f"{sum(1 for p in PHASES if p in cov.phases)} of {len(PHASES)}",
            ", ".join(p for p in PHASES if p not in cov.phases),
        ),
        (
            "distinct abstract states",
            f"{cov.distinct_states()}" + (" (estimated)" if len(cov.states) >= STATE_SKETCH else ""),
            "",
        ),
    ]


#: abstract-state digests a report keeps, at most (the smallest: `Coverage.distinct_states`)
STATE_SKETCH = 1 << 16


def _smallest(digests: set[int]) -> set[int]:
    """The `STATE_SKETCH` smallest digests (all of them when fewer): the smallest of a union are the
    smallest of the parts' smallest, so reports merge in any order to the same sketch."""
    if len(digests) <= STATE_SKETCH:
        return digests
    return set(heapq.nsmallest(STATE_SKETCH, digests))


def merged(reports: Iterable[Coverage]) -> Coverage:
    out = Coverage()
    for r in reports:
        out.absorb(r)
    return out


def vacuous(held: bool, exercised: int) -> bool:
    """A property that held on runs none of which reached the state it speaks about."""
    return held and exercised == 0


def abstract_state(world: World) -> tuple:
    """The abstraction the state count uses: per client its model round, training round,
    contributions and releases, and whether crashed; per correct aggregator its model round and how
    many sets it fixed, endorsed, revealed and certified; the number of messages in flight.
    Values, pads and message contents are abstracted away."""
    clients = tuple(_client(c, world.crashed) for c in world.clients)
    return clients, tuple(_aggregator(a) for a in world.aggregators), len(world.in_flight)


def _client(c: ClientState, crashed: frozenset[int]) -> tuple:
    return c.model_round, c.training, len(c.contributed), c.released, c.c in crashed


def _aggregator(a: AggregatorState | None) -> tuple | None:
    if a is None:
        return None
    return a.model_round, len(a.fixed), len(a.endorsed), len(a.revealed), len(a.certified)


def digest(state: tuple) -> int:
    """A 64-bit digest of an abstract state, the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(repr(state).encode(), digest_size=8).digest(), "big")


@dataclass
class Probe:
    """Watches one run: the rules it consulted (through an instrumented table, `instrument`), the
    events the chaos scheduler took, every step. `report()` is that run's coverage."""

    fired: set[str] = field(default_factory=set)
    refusals: set[str] = field(default_factory=set)
    offers: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    phases: set[str] = field(default_factory=set)
    states: set[tuple] = field(default_factory=set)
    #: the parties of the last world abstracted, and their abstractions (`_abstract`)
    _seen: tuple | None = field(default=None, repr=False)

    def instrument(self, rules: Rules) -> Rules:
        """The same table, each rule recording its answers here (the table's name is kept)."""
        wrapped = {name: self._counted(name, getattr(rules, name)) for name in Rules.names()}
        return replace(rules, **wrapped)

    def _counted(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        label = _label(name)
        fired = self.fired

        def call(*args: Any, **kwargs: Any) -> Any:
            answer = fn(*args, **kwargs)
            fired.add(label(answer))
            return answer

        return call

    def chose(self, kinds: dict[str, list[Event]], event: Event | None) -> None:
        """The chaos scheduler took `event`: the kinds it was offered under (chaos.KINDS)."""
        if event is None:
            return
        for kind, events in kinds.items():
            if kind in ("lead", "collude", "heard", "inject") and event in events:
                self.offers.add(f"chaos: {kind}")
        if isinstance(event, Inject):
            self.offers.add(f"injected: {type(event.msg).__name__}")

    def stepped(self, before: World, after: World) -> None:
        last = after.last
        assert last is not None
        event = last.event
        if last.refused is not None:
            self.refusals.add(last.refused.rule)
        if isinstance(event, Deliver):
            k = bisect_left(before.in_flight, event.msg_id, key=lambda e: e.id)  # kept in id order
            env = before.in_flight[k] if k < len(before.in_flight) else None
            if env is not None and env.id == event.msg_id:
                kind = type(env.msg).__name__
                self.messages.add(f"{kind}: {'refused' if last.refused is not None else 'accepted'}")
                if isinstance(env.msg, Reveal) and last.refused is None and _censored(before, env.msg):
                    self.phases.add("REVEAL of a set that leaves out a contributor")
        elif isinstance(event, Crash):
            self.phases.add("a client crashed")
        elif isinstance(event, TrainDone) and last.refused is None:
            self.phases.add("a training ended")
        self.states.add(self._abstract(after))

    def _abstract(self, world: World) -> tuple:
        """`abstract_state`, recomputing only the parties the step replaced (a step rebuilds one or
        two; the others are the same objects as before)."""
        seen = self._seen
        if seen is None or len(seen[0]) != len(world.clients) or seen[2] is not world.crashed:
            seen = self._seen = (world.clients, list(abstract_state(world)[0]), world.crashed, [], [])
            seen[3].extend(world.aggregators)
            seen[4].extend(_aggregator(a) for a in world.aggregators)
        clients, client_abs, _crashed, aggs, agg_abs = seen
        for i, c in enumerate(world.clients):
            if c is not clients[i]:
                client_abs[i] = _client(c, world.crashed)
        for j, a in enumerate(world.aggregators):
            if a is not aggs[j]:
                aggs[j] = a
                agg_abs[j] = _aggregator(a)
        self._seen = (world.clients, client_abs, world.crashed, aggs, agg_abs)
        return tuple(client_abs), tuple(agg_abs), len(world.in_flight)

    def finish(self, world: World, stuck: bool, bound_hit: bool, plan_adversaries: Iterable[str]) -> None:
        for name in plan_adversaries:
            self.offers.add(f"strategy: {name}")
        fired = self.fired
        if "i2_releases_data: noise only" in fired:
            self.phases.add("a contribution noise only (I2 quota spent)")
        if "i2_take_back: taken back" in fired:
            self.phases.add("a release taken back (I2)")
        if "i3_carry_round: carried over" in fired:
            self.phases.add("a contribution carried over (I3)")
        if "i3_carry_round: too stale (past s_max)" in fired:
            self.phases.add("a carry-over refused past s_max (I3)")
        if any(m.startswith("ModelMsg: accepted") for m in self.messages):
            self.phases.add("a MODEL delivered and accepted")
        if finished(world):
            self.phases.add("every correct party finished round R")
        if stuck:
            self.phases.add("fair phase stuck")
        if bound_hit:
            self.phases.add("fair phase hit its step bound")

    def report(self) -> Coverage:
        return Coverage(
            runs=1,
            rules=Counter(self.fired),
            refusals=Counter(self.refusals),
            offers=Counter(self.offers),
            messages=Counter(self.messages),
            phases=Counter(self.phases),
            states=_smallest({digest(s) for s in self.states}),
        )


def _censored(world: World, msg: Reveal) -> bool:
    """Whether the set a REVEAL names leaves out a member of its cluster that had contributed to the
    round (a coordinator fixing S without it: a censored set, which I2 and I3 must absorb)."""
    ctx = world.ctx
    for client in world.clients:
        if client.c not in msg.members and msg.r in client.contributed:
            if ctx.cluster_of(msg.r, client.c) == msg.i:
                return True
    return False
