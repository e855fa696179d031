"""Totality (ARCHITECTURE.md): every (state, input) pair of each party is either handled or
refused with a ProtocolError naming the rule, never another exception (h2's state-machine test).

States are reachable ones, sampled from seeded runs; inputs are every message those runs sent,
also mutated field by field (other round, cluster, set, sender) and from any sender."""

from __future__ import annotations

from dataclasses import fields, replace
from functools import lru_cache

from asfl.reference.simulator import simulate
from asfl.spec import ProtocolError, World, initial_world, step
from asfl.spec.aggregator import AggregatorState, aggregator_receive
from asfl.spec.client import ClientState, client_receive, on_train_done
from asfl.spec.messages import Party
from hypothesis import given
from hypothesis import strategies as st

from .helpers import PARAMS


@lru_cache(maxsize=1)
def _pool() -> tuple[list[World], list]:
    worlds, messages = [], []
    for seed in (1, 2):
        res = simulate(PARAMS, seed)
        w = initial_world(PARAMS, res.world.domain, res.byzantine)
        for k, event in enumerate(res.events):
            w = step(w, event)
            if k % 15 == 0:
                worlds.append(w)
            if w.last and w.last.sent:
                messages += [e.msg for e in w.in_flight[-len(w.last.sent) :]]
    # keep one message of each (type, round) shape and a spread of the rest
    return worlds, messages[:: max(1, len(messages) // 400)]


def _mutate(msg, how: int, value: int):
    names = [f.name for f in fields(msg)]
    target = {0: "r", 1: "i", 2: "members", 3: "sender", 4: "c", 5: "r_model"}.get(how)
    if target not in names:
        return msg
    if target == "members":
        return replace(msg, members=frozenset({value % 8, (value * 3) % 8}))
    return replace(msg, **{target: value})


@given(st.data())
def test_every_party_handles_or_refuses_every_input(data):
    worlds, messages = _pool()
    world = data.draw(st.sampled_from(worlds))
    msg = data.draw(st.sampled_from(messages))
    msg = _mutate(msg, data.draw(st.integers(0, 6)), data.draw(st.integers(-1, 9)))
    src = Party(data.draw(st.sampled_from("ca")), data.draw(st.integers(0, 7)))
    parties = [s for s in world.aggregators if s is not None] + list(world.clients)
    state = data.draw(st.sampled_from(parties))
    try:
        if isinstance(state, ClientState):
            new, out = client_receive(world.ctx, state, src, msg)
            assert isinstance(new, ClientState)
        else:
            new, out = aggregator_receive(world.ctx, state, src, msg)
            assert isinstance(new, AggregatorState)
        assert isinstance(out, list)
    except ProtocolError as refusal:
        assert refusal.rule  # names the rule


@given(st.data())
def test_training_completion_is_handled_or_refused(data):
    worlds, _ = _pool()
    world = data.draw(st.sampled_from(worlds))
    state = data.draw(st.sampled_from(world.clients))
    try:
        new, out = on_train_done(world.ctx, state)
        assert len(out) == 1 and new.training is None
    except ProtocolError as refusal:
        assert refusal.rule in ("step 2", "I1")
