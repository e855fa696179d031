"""Exhaustive bounded explorer: BFS over every interleaving of a small configuration.

The reachable state graph is a networkx `DiGraph` (node = state number, edge attribute `events` =
the events of the move, `correct` = whether correct parties or the network made it). Safety checks
(the one suite's, judge/suite.py `STATE_PROPERTIES`: P1-P4, P6, P7) are judged on every distinct
state, on the facts that state holds (judge/facts.py `state_facts`); liveness (P5) is checked on
the finished graph: from every reachable state, some `finished` state must stay reachable through
moves of correct parties and the network only (no crash, no Byzantine injection): reverse
reachability from the goal states. A state that cannot reach the goal yields a dead-end or lasso
trace (ITF, `Trace.loop` set for a lasso).

Reductions, each sound for the properties checked, each switchable (`reduce=False` turns both off):
  message-id symmetry  a state is keyed by the parties' states, the crashed clients, the multiset
                       of in-flight (src, dst, msg) without ids, the coalition's knowledge and the
                       injections made: renaming message ids is a symmetry of `step`, so states that
                       differ only in ids (or step count) are one state
  eager coalition      a message to a Byzantine aggregator is delivered at once. Such a delivery
                       only adds to the coalition's knowledge (`world.py` routes it to
                       `coalition_inbox`); no correct party's state depends on it, the adversary may
                       always wait, and P3/P6/P7 are monotone in that knowledge, so every state of
                       the full graph has a representative with the same parties and at least the
                       same knowledge, and the eager schedule is itself a real schedule
`focus` restricts which clients train (the others are slow: a real asynchronous prefix), which
under-approximates: violations found are real, a clean verdict then covers that focus only.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import networkx as nx
from asfl.properties.adversaries.menus import MENUS
from asfl.properties.domains.tiny import TinyDomain
from asfl.properties.judge.suite import PROPERTIES, STATE_PROPERTIES, Run
from asfl.properties.traces.itf import Trace
from asfl.spec import STANDARD, Params, Rules
from asfl.spec.messages import Certify, Contrib, ModelMsg, ShareSum
from asfl.spec.world import (
    Crash,
    Deliver,
    Envelope,
    Event,
    Inject,
    TrainDone,
    World,
    finished,
    initial_world,
    step,
)

Node = tuple[World, frozenset]  # the world and the injections made so far


@dataclass
class ExplorerVerdict:
    """The verdict for one property: ok, or the violation and a trace to it."""

    property: str
    holds: bool
    message: str = ""
    trace: Trace | None = None

    def to_json(self) -> dict:
        out: dict = {"property": self.property, "holds": self.holds}
        if not self.holds:
            out["message"] = self.message
            if self.trace is not None:
                out["trace_length"] = len(self.trace.events)
                if self.trace.loop is not None:
                    out["loop"] = self.trace.loop
        return out


@dataclass
class Exploration:
    """The outcome of one exploration."""

    params: Params
    byzantine: tuple[int, ...]
    menu: str
    reduce: bool
    graph: nx.DiGraph
    states: int
    transitions: int
    depth: int
    seconds: float
    complete: bool  # False when max_states or stop_at stopped the search
    verdicts: dict[str, ExplorerVerdict] = field(default_factory=dict)
    worlds: list[World] = field(default_factory=list, repr=False)  # by state number

    @property
    def rate(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> dict:
        return {
            "states": self.states,
            "transitions": self.transitions,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "complete": self.complete,
            "verdicts": {name: ("holds" if v.holds else "violated") for name, v in self.verdicts.items()},
        }


def canonical_key(world: World, injected: frozenset, reduce: bool = True) -> Hashable:
    """The state up to message ids (and step count, last outcome), with the coalition's knowledge
    as a set; with `reduce=False`, message ids and orders are kept."""
    parties = (world.clients, world.aggregators, world.crashed)
    if not reduce:
        flight = tuple((e.id, e.src, e.dst, e.msg) for e in world.in_flight)
        inbox = tuple((e.id, e.src, e.dst, e.msg) for e in world.coalition_inbox)
        return parties, flight, inbox, injected
    flight = frozenset(Counter((e.src, e.dst, e.msg) for e in world.in_flight).items())
    inbox = frozenset((e.src, e.dst, e.msg) for e in world.coalition_inbox)
    return parties, flight, inbox, injected


def stably_refused(world: World, env: Envelope) -> bool:
    """Whether delivering `env` is refused now and in every future state: its delivery changes no
    party and nothing can make it matter later, because what refuses it never changes back
    (crashes are permanent; model rounds, fixed sets and sent clusters only grow)."""
    dst, msg = env.dst, env.msg
    if dst.role == "c":
        if dst.index in world.crashed:
            return True
        st = world.clients[dst.index]
        if isinstance(msg, ModelMsg):
            return msg.r <= st.model_round
        if isinstance(msg, Certify):
            # resolved (or I1-final): the client contributed to msg.r and nothing is outstanding
            return msg.r in st.contributed and msg.r not in st.outstanding
        return False
    agg = world.aggregators[dst.index]
    if agg is None:
        return False
    if isinstance(msg, Certify):
        return msg.r < agg.model_round
    if isinstance(msg, ShareSum):
        return msg.i == agg.j and msg.r in agg.clusters_sent
    if isinstance(msg, Contrib):
        return msg.r in agg.fixed
    return False


def _settle(world: World, drop_stale: bool = True) -> tuple[World, list[Event]]:
    """Eager moves: deliver everything addressed to a Byzantine aggregator (eager coalition) and
    every stably refused message (stale drop)."""
    done: list[Event] = []
    while True:
        pending = [
            Deliver(e.id)
            for e in world.in_flight
            if (e.dst.role == "a" and e.dst.index in world.byzantine)
            or (drop_stale and stably_refused(world, e))
        ]
        if not pending:
            return world, done
        for event in pending:
            before = world
            world = step(world, event)
            done.append(event)
            if world.coalition_inbox is before.coalition_inbox:
                # a stale drop: the spec must have refused it without touching any party
                assert world.last is not None and world.last.refused is not None, event
                assert world.clients is before.clients and world.aggregators is before.aggregators


def _moves(world: World, focus: frozenset[int] | None) -> list[Event]:
    events: list[Event] = [Deliver(e.id) for e in world.in_flight]
    events += [
        TrainDone(st.c)
        for st in world.clients
        if st.training is not None and st.c not in world.crashed and (focus is None or st.c in focus)
    ]
    if len(world.crashed) < world.params.t_c:
        events += [Crash(c) for c in range(world.params.n_c) if c not in world.crashed]
    return events


def _byzantine_moves(world: World, injected: frozenset, menu: str) -> list[tuple[Inject, ...]]:
    return [move for move in MENUS[menu](world) if all((e.dst, e.msg) not in injected for e in move)]


def dead_end(world: World) -> bool:
    """A P5 counterexample state: the goal is not reached and no correct party nor the network can
    move (nothing in flight, no correct client training)."""
    return not finished(world) and not [e for e in _moves(world, None) if not isinstance(e, Crash)]


def _is_correct_move(events: list[Event]) -> bool:
    """Moves of correct parties and of the network: not a crash, not a Byzantine injection."""
    return not isinstance(events[0], Crash | Inject)


def explore(
    params: Params,
    byzantine: Iterable[int] = (),
    menu: str = "silent",
    rules: Rules = STANDARD,
    seed: int = 0,
    reduce: bool = True,
    focus: Iterable[int] | None = None,
    checks: Iterable[str] | None = None,
    liveness: bool = True,
    max_states: int | None = None,
    stop_at: Iterable[str] = (),
) -> Exploration:
    """BFS over every interleaving; safety on every state, liveness (P5) on the whole graph.

    `stop_at` names safety properties: the search stops once all of them are violated (a
    counterexample hunt; the exploration is then incomplete and P5 is not judged)."""
    if menu not in MENUS:
        raise ValueError(f"unknown Byzantine menu {menu!r}; known: {sorted(MENUS)}")
    checks = STATE_PROPERTIES if checks is None else tuple(checks)
    stop = frozenset(stop_at)
    if not stop <= set(checks):
        raise ValueError(f"stop_at names unknown properties: {sorted(stop - set(checks))}")
    byz = tuple(sorted(byzantine))
    focus_set = None if focus is None else frozenset(focus)
    start = time.perf_counter()
    world0 = initial_world(params, TinyDomain(params, seed), byz, rules)
    pre: list[Event] = []
    if reduce:
        world0, pre = _settle(world0)  # nothing is in flight yet: a no-op kept for symmetry
    graph = nx.DiGraph()
    worlds: list[Node] = [(world0, frozenset())]
    parent: list[tuple[int, list[Event]] | None] = [None]
    level = [0]
    index = {canonical_key(world0, frozenset(), reduce): 0}
    graph.add_node(0)
    violations: dict[str, tuple[int, str]] = {}
    _check(0, world0, checks, violations)
    queue = deque([0])
    complete = True
    transitions = 0
    while queue:
        if stop and stop <= set(violations):
            complete = False
            break
        n = queue.popleft()
        world, injected = worlds[n]
        moves: list[list[Event]] = [[e] for e in _moves(world, focus_set)]
        moves += [list(move) for move in _byzantine_moves(world, injected, menu)]
        for move in moves:
            nxt, done = world, injected
            for event in move:
                nxt = step(nxt, event)
                if isinstance(event, Inject):
                    done = done | {(event.dst, event.msg)}
            events = list(move)
            if reduce:
                nxt, more = _settle(nxt)
                events += more
            key = canonical_key(nxt, done, reduce)
            target = index.get(key)
            if target is None:
                if max_states is not None and len(worlds) >= max_states:
                    complete = False
                    continue
                target = len(worlds)
                index[key] = target
                worlds.append((nxt, done))
                parent.append((n, events))
                level.append(level[n] + 1)
                graph.add_node(target)
                _check(target, nxt, checks, violations)
                queue.append(target)
            transitions += 1
            if graph.has_edge(n, target):
                graph[n][target]["correct"] = graph[n][target]["correct"] or _is_correct_move(events)
            else:
                graph.add_edge(n, target, events=events, correct=_is_correct_move(events))
    result = Exploration(
        params=params,
        byzantine=byz,
        menu=menu,
        reduce=reduce,
        graph=graph,
        states=len(worlds),
        transitions=transitions,
        depth=max(level),
        seconds=0.0,
        complete=complete,
        worlds=[w for w, _ in worlds],
    )
    ctx = _TraceContext(params, seed, byz, rules.name, pre, parent, menu)
    for name in checks:
        if name in violations:
            node, message = violations[name]
            result.verdicts[name] = ExplorerVerdict(name, False, message, ctx.trace_to(node, name, message))
        else:
            result.verdicts[name] = ExplorerVerdict(name, True)
    if liveness and focus_set is None and complete:
        result.verdicts["P5"] = _liveness(graph, worlds, ctx)
    result.seconds = time.perf_counter() - start
    return result


def _check(node: int, world: World, checks: tuple[str, ...], violations: dict[str, tuple[int, str]]) -> None:
    """Judge the properties not yet violated on one state (one `Run` per state: its facts are
    computed once for every property)."""
    run = Run(world)
    for name in checks:
        if name not in violations:
            problem = PROPERTIES[name](run)
            if problem is not None:
                violations[name] = (node, str(problem))


@dataclass
class _TraceContext:
    params: Params
    seed: int
    byzantine: tuple[int, ...]
    rules: str
    pre: list[Event]
    parent: list[tuple[int, list[Event]] | None]
    menu: str

    def path(self, node: int) -> list[int]:
        nodes = [node]
        while (link := self.parent[nodes[-1]]) is not None:
            nodes.append(link[0])
        return nodes[::-1]

    def events_to(self, node: int) -> list[Event]:
        events = list(self.pre)
        for n in self.path(node)[1:]:
            link = self.parent[n]
            assert link is not None
            events += link[1]
        return events

    def trace(self, events: list[Event], prop: str, message: str, loop: int | None = None) -> Trace:
        return Trace(
            params=self.params,
            seed=self.seed,
            events=events,
            byzantine=self.byzantine,
            domain="tiny",
            rules=self.rules,
            status="violation",
            property=prop,
            description=message,
            loop=loop,
            extra={"explorer": {"menu": self.menu}},
        )

    def trace_to(self, node: int, prop: str, message: str) -> Trace:
        return self.trace(self.events_to(node), prop, message)


def _liveness(graph: nx.DiGraph, worlds: list[Node], ctx: _TraceContext) -> ExplorerVerdict:
    """P5: every reachable state can still reach a finished state by correct moves (reverse
    reachability from the goal states over correct edges)."""
    alive = {n for n, (w, _) in enumerate(worlds) if finished(w)}
    frontier = deque(alive)
    while frontier:
        n = frontier.popleft()
        for pred in graph.predecessors(n):
            if pred not in alive and graph[pred][n]["correct"]:
                alive.add(pred)
                frontier.append(pred)
    stuck = [n for n in range(len(worlds)) if n not in alive]
    if not stuck:
        return ExplorerVerdict("P5", True)
    first = min(stuck, key=lambda n: (len(ctx.path(n)), n))
    # follow correct moves from there: the region that cannot reach the goal is closed under them
    events = ctx.events_to(first)
    seen = {first: len(events)}
    current = first
    while True:
        succ = sorted(v for v in graph.successors(current) if graph[current][v]["correct"])
        if not succ:
            message = f"P5: dead end after {len(events)} events: no correct move left, goal not reached"
            return ExplorerVerdict("P5", False, message, ctx.trace(events, "P5", message))
        nxt = succ[0]
        events = events + graph[current][nxt]["events"]
        if nxt in seen:
            message = "P5: lasso: correct moves loop without ever reaching the goal"
            return ExplorerVerdict("P5", False, message, ctx.trace(events, "P5", message, loop=seen[nxt]))
        seen[nxt] = len(events)
        current = nxt


def directed_run(
    params: Params, byzantine: Iterable[int] = (), rules: Rules = STANDARD, seed: int = 0
) -> tuple[World, Trace | None]:
    """One fair run: the oldest message in flight is delivered first, a client trains when nothing
    is in flight, Byzantine aggregators stay silent, nobody crashes. If the run stops (no correct
    move left) before `finished`, it is a P5 dead end, returned as a trace."""
    byz = tuple(sorted(byzantine))
    world = initial_world(params, TinyDomain(params, seed), byz, rules)
    events: list[Event] = []
    while True:
        if world.in_flight:
            event: Event = Deliver(min(e.id for e in world.in_flight))
        else:
            training = [st.c for st in world.clients if st.training is not None]
            if not training:
                break
            event = TrainDone(training[0])
        world = step(world, event)
        events.append(event)
    if finished(world):
        return world, None
    message = f"P5: dead end after {len(events)} events of a fair run: no correct move is left"
    ctx = _TraceContext(params, seed, byz, rules.name, [], [None], "silent")
    return world, ctx.trace(events, "P5", message)
