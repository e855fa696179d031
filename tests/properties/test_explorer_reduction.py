"""The reductions (message-id symmetry, eager coalition delivery, stale drop) change no result:
on configurations small enough to explore both ways, the same verdicts, and the same set of
parties' states (clients, aggregators, crashed) is reachable."""

from __future__ import annotations

import networkx as nx
import pytest
from asfl.properties.exhaustive.explorer import Exploration, explore, stably_refused
from asfl.spec import Params
from asfl.spec.world import Deliver, step


def _parties(result: Exploration) -> set:
    return {(w.clients, w.aggregators, w.crashed) for w in result.worlds}


def _knowledge(world) -> frozenset:
    return frozenset((e.src, e.dst, e.msg) for e in world.coalition_inbox)


CONFIGS = [
    ("pair-crash", Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1), {}),
    ("pair-2rounds", Params(n_c=2, t_c=0, n_a=1, t_a=0, R=2, d=1), {}),
    ("duo-focus", Params(n_c=2, t_c=0, n_a=2, t_a=0, R=1, d=1), {"focus": [0]}),
    ("q5-broken", Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, m=2, d=1, allow_unsafe=True), {}),
    (
        "byzantine-focus",
        Params(n_c=5, t_c=0, n_a=4, t_a=1, T=1, R=1, d=1, allow_unsafe=True),
        {"byzantine": [3], "focus": [3, 4]},
    ),
]


@pytest.mark.parametrize("name, params, options", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_reduction_keeps_results(name: str, params: Params, options: dict) -> None:
    reduced = explore(params, reduce=True, **options)
    full = explore(params, reduce=False, **options)
    assert reduced.complete and full.complete
    assert {k: v.holds for k, v in reduced.verdicts.items()} == {k: v.holds for k, v in full.verdicts.items()}
    assert _parties(reduced) == _parties(full)
    # every move consumes a message or a training or records an injection: no cycles, so a P5
    # counterexample here is a dead end (the lasso branch serves graphs with cycles)
    assert nx.is_directed_acyclic_graph(reduced.graph) and nx.is_directed_acyclic_graph(full.graph)
    assert reduced.states <= full.states
    # eager coalition delivery: every full state has a reduced one with the same parties and at
    # least the coalition's knowledge (P3, P6, P7 are monotone in it)
    best: dict = {}
    for w in reduced.worlds:
        key = (w.clients, w.aggregators, w.crashed)
        best.setdefault(key, []).append(_knowledge(w))
    for w in full.worlds:
        key = (w.clients, w.aggregators, w.crashed)
        assert any(_knowledge(w) <= k for k in best[key])


def test_reduction_is_smaller_where_it_matters() -> None:
    params = Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1)
    assert explore(params, reduce=True).states * 5 < explore(params, reduce=False).states


def test_stably_refused_messages_are_refused() -> None:
    """Every message the stale drop removes is one the spec refuses without changing a party."""
    params = Params(n_c=2, t_c=1, n_a=1, t_a=0, R=1, d=1)
    result = explore(params, reduce=False, liveness=False, checks={})
    dropped = 0
    for w in result.worlds:
        for env in w.in_flight:
            if stably_refused(w, env):
                after = step(w, Deliver(env.id))
                assert after.last is not None and after.last.refused is not None
                assert after.clients == w.clients and after.aggregators == w.aggregators
                dropped += 1
    assert dropped > 100
