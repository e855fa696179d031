"""Durable state (issue 15, part 3; docs/protocol.md "Crash recovery").

An endorser that endorsed one set of (r, i), crashed and restarted from its store still refuses
any other set of (r, i) (Q2 write-once); its state after recovery is the state before the crash; the
store itself refuses to record a second set for one (round, cluster); a client's release count
comes back from its store, counted once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from asfl.reference.runtime.cluster import free_ports
from asfl.reference.runtime.codec import Codec
from asfl.reference.runtime.config import RULES, load, load_private, write_cluster
from asfl.reference.runtime.node import Node, public_keys
from asfl.reference.runtime.store import Store, StoreError, read_registers
from asfl.spec.client import initial_client, on_train_done
from asfl.spec.context import Context
from asfl.spec.messages import UnmaskReq, aggregator, client
from asfl.spec.params import Params

P = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3, d=4)


@pytest.fixture
def cfg(tmp_path: Path):
    parties = [aggregator(j) for j in range(P.n_a)] + [client(c) for c in range(P.n_c)]
    ports = free_ports(len(parties))
    return load(write_cluster(tmp_path, P, 0, {p: (q, q) for p, q in zip(parties, ports, strict=True)}))


def _codec(cfg, party):
    priv = load_private(cfg, party)
    return Codec(P, party, public_keys(cfg), priv.sign, priv.kx)


def test_store_refuses_a_second_set_for_one_round_and_cluster(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.append("msg", ("a", 0), b"k1", b"body", {"endorsed/0/0": "[1, 2]"}, {})
    store.append("msg", ("a", 0), b"k2", b"body", {"endorsed/0/0": "[1, 2]"}, {})  # the same set: fine
    with pytest.raises(StoreError, match="endorsed/0/0"):
        store.append("msg", ("a", 0), b"k3", b"body", {"endorsed/0/0": "[1]"}, {})
    assert [i.key for i in store.inputs()] == [b"k1", b"k2"]  # the refused input was not logged
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with pytest.raises(sqlite3.IntegrityError):  # one logged delivery per (sender, message)
        store.append("msg", ("a", 0), b"k1", b"body", {}, {})
    store.close()


def test_restarted_endorser_carries_on_and_never_endorses_a_second_set(cfg) -> None:
    ctx = Context(P, cfg.domain(), RULES)
    i, j = 0, 1  # coordinator 0 asks endorser 1
    members = sorted(ctx.clusters(0)[i])
    assert len(members) >= 2
    coord = _codec(cfg, aggregator(i))
    contribs = {}
    for c in members:
        _, sends = on_train_done(ctx, initial_client(ctx, c))
        contribs[c] = coord.decode(_codec(cfg, client(c)).encode(sends[0][1]))
    first = coord.encode(UnmaskReq(0, i, frozenset(members[:1]), (contribs[members[0]],)))
    second = coord.encode(UnmaskReq(0, i, frozenset(members[1:2]), (contribs[members[1]],)))

    async def scenario():
        before = Node(cfg, aggregator(j))
        before.store = _open(cfg, aggregator(j))
        before._initial()
        before.handle(aggregator(i), first)
        assert before.state.endorsed[(0, i)] == frozenset(members[:1])
        state_before = before.state
        before.store.close()  # the process dies here: nothing but its store survives
        for link in before.links.values():
            link.task.cancel()

        after = Node(cfg, aggregator(j))
        after.store = _open(cfg, aggregator(j))
        after._initial()
        resend = after.recover()
        assert after.state == state_before and after.recovered == 1
        assert [type(m).__name__ for _, m in resend] == ["Endorsement"]  # re-sent: a late message
        after.handle(aggregator(i), second)
        after.handle(aggregator(i), first)  # the very message again: a duplicate, dropped
        for link in after.links.values():
            link.task.cancel()
        after.store.close()
        return after

    after = asyncio.run(scenario())
    assert after.refused["Q2 write-once"] == 1 and after.stats["duplicates"] == 1
    assert after.state.endorsed[(0, i)] == frozenset(members[:1])
    registers = read_registers(cfg.store_path(aggregator(j)))
    assert registers[f"endorsed/0/{i}"] == json.dumps(members[:1])


def test_restarted_client_counts_each_release_once(cfg) -> None:
    async def scenario():
        node = Node(cfg, client(2))
        node.store = _open(cfg, client(2))
        node._initial()
        node._train_done()  # trains and contributes: one data release (I2)
        assert node.state.released == 1
        node.store.close()
        for link in node.links.values():
            link.task.cancel()
        again = Node(cfg, client(2))
        again.store = _open(cfg, client(2))
        again._initial()
        resend = again.recover()
        again.store.close()
        return node.state, again, resend

    before, again, resend = asyncio.run(scenario())
    assert again.state == before and again.state.released == 1
    assert read_registers(cfg.store_path(client(2)))["released"] == "1"
    # the contribution is re-sent as it was (the same message), not contributed a second time
    ctx = Context(P, cfg.domain(), RULES)
    assert resend == on_train_done(ctx, initial_client(ctx, 2))[1]


def _open(cfg, party) -> Store:
    return Store(cfg.store_path(party))
