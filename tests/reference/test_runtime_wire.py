"""Hostile bytes against the runtime's wire format and server (issue 15, part 6).

The frame decoder and the message decoder are fuzzed with Hypothesis: random bytes, truncated and
altered valid frames, correctly signed frames whose body has the wrong shape or types, forged
signatures. Only `DecodeError` may come out. Then a real aggregator process's server (in this
process, on loopback) is fed garbage, a bad signature, an oversized frame and a replayed frame, and
keeps serving: it acknowledges and applies the valid contribution exactly once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgpack
import pytest
from asfl.reference.runtime.codec import (
    HEADER,
    KIND_ACK,
    KIND_MSG,
    CannotSign,
    Codec,
    DecodeError,
    SealedBox,
    decode_frame,
    encode_frame,
    message_key,
    new_nonce,
)
from asfl.reference.runtime.config import RULES, ClusterConfig, load, load_private, write_cluster
from asfl.reference.runtime.node import Node, public_keys, read_payload
from asfl.reference.runtime.store import Store, read_inputs
from asfl.spec.client import initial_client, on_train_done
from asfl.spec.context import Context
from asfl.spec.messages import Certify, Contrib, Party, Sig, UnmaskReq, aggregator, certify_payload, client
from asfl.spec.params import Params
from hypothesis import given
from hypothesis import strategies as st

P = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3, d=4)
CAP = 1 << 16


def _cluster(directory: Path) -> ClusterConfig:
    from asfl.reference.runtime.cluster import free_ports

    parties = [aggregator(j) for j in range(P.n_a)] + [client(c) for c in range(P.n_c)]
    ports = free_ports(len(parties))
    return load(
        write_cluster(directory, P, 0, {p: (port, port) for p, port in zip(parties, ports, strict=True)})
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = _cluster(tmp_path_factory.mktemp("wire"))
    keys = public_keys(cfg)
    codecs = {}
    for party in cfg.parties:
        priv = load_private(cfg, party)
        codecs[party] = Codec(P, party, keys, priv.sign, priv.kx)
    ctx = Context(P, cfg.domain(), RULES)
    coordinator = aggregator(0)
    c = min(ctx.clusters(0)[0])
    _, sends = on_train_done(ctx, initial_client(ctx, c))
    ((dst, contrib),) = sends
    assert dst == coordinator and isinstance(contrib, Contrib)
    frames = {}
    body = codecs[client(c)].encode(contrib)
    frames["contrib"] = (client(c), coordinator, body)
    received = codecs[coordinator].decode(body)
    req = UnmaskReq(0, 0, frozenset({c}), (received,))
    frames["unmask"] = (coordinator, aggregator(1), codecs[coordinator].encode(req))
    cert = Certify(0, 0, frozenset({c}), "00ff", Sig(0, certify_payload(0, 0, frozenset({c}), "00ff")))
    frames["certify"] = (coordinator, client(c), codecs[coordinator].encode(cert))
    return cfg, keys, codecs, frames, c


def _frame(cfg, src: Party, dst: Party, body: bytes, kind: int = KIND_MSG) -> bytes:
    return encode_frame(load_private(cfg, src).sign, src, dst, kind, body, new_nonce())


def _decode_all(setup, payload: bytes, me: Party) -> None:
    """Decode a frame payload and its message as `me` would; anything but DecodeError fails."""
    _, keys, codecs, _, _ = setup
    try:
        frame = decode_frame(payload, keys, me, CAP)
        if frame.kind == KIND_MSG:
            codecs[me].decode(frame.body)
    except DecodeError:
        pass


def test_valid_frames_round_trip(setup) -> None:
    cfg, keys, codecs, frames, c = setup
    src, dst, body = frames["unmask"]
    frame = decode_frame(_frame(cfg, src, dst, body)[HEADER.size :], keys, dst, CAP)
    msg = codecs[dst].decode(frame.body)
    assert isinstance(msg, UnmaskReq) and msg.members == frozenset({c})
    # a1 opened its own share and holds the others sealed, as relayed
    sealed = msg.contribs[0].sealed
    assert not isinstance(sealed[1].share, SealedBox) and isinstance(sealed[0].share, SealedBox)
    assert message_key(msg) == message_key(
        UnmaskReq(0, 0, frozenset({c}), (codecs[aggregator(0)].decode(frames["contrib"][2]),))
    )


@given(st.binary(max_size=600))
def test_random_bytes_are_refused(setup, data: bytes) -> None:
    _decode_all(setup, data, aggregator(0))
    _decode_all(setup, b"\x01" + data, aggregator(0))


@given(st.sampled_from(["contrib", "unmask", "certify"]), st.data())
def test_truncated_and_altered_frames_are_refused(setup, name: str, data) -> None:
    cfg, *_ = setup
    src, dst, body = setup[3][name]
    payload = bytearray(_frame(cfg, src, dst, body)[HEADER.size :])
    op = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    k = data.draw(st.integers(0, len(payload) - 1))
    if op == "truncate":
        payload = payload[:k]
    elif op == "flip":
        payload[k] ^= data.draw(st.integers(1, 255))
    else:
        payload[k:k] = data.draw(st.binary(min_size=1, max_size=8))
    with pytest.raises(DecodeError):
        frame = decode_frame(bytes(payload), setup[1], dst, CAP)
        setup[2][dst].decode(frame.body)  # reached only if the alteration kept the signature valid


_garbage = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=40)
    | st.text(max_size=6) | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=20,
)  # fmt: skip


@given(_garbage)
def test_signed_bodies_of_any_shape_are_refused(setup, obj) -> None:
    """A correctly signed frame (say, from a Byzantine aggregator) whose body is anything at all."""
    cfg, *_ = setup
    body = msgpack.packb(obj)
    _decode_all(setup, _frame(cfg, aggregator(3), aggregator(0), body)[HEADER.size :], aggregator(0))


@given(st.sampled_from(["contrib", "unmask", "certify"]), st.data())
def test_messages_with_a_field_replaced_are_refused(setup, name: str, data) -> None:
    """A well-formed message with one nested field replaced by a value of another type or range."""
    cfg, keys, codecs, frames, _ = setup
    src, dst, body = frames[name]
    obj = msgpack.unpackb(body, raw=False)
    path = []
    node = obj
    while isinstance(node, list) and node:
        k = data.draw(st.integers(0, len(node) - 1))
        path.append(k)
        if not isinstance(node[k], list) or data.draw(st.booleans()):
            node[k] = data.draw(_garbage)
            break
        node = node[k]
    fresh = Codec(P, dst, keys, load_private(cfg, dst).sign, load_private(cfg, dst).kx)
    try:
        fresh.decode(msgpack.packb(obj))
    except DecodeError:
        pass


def test_forged_signatures_are_refused(setup) -> None:
    cfg, keys, codecs, frames, c = setup
    a0, a2 = aggregator(0), aggregator(2)
    # a0 cannot produce a1's signature
    forged = Certify(0, 0, frozenset({c}), "00ff", Sig(1, certify_payload(0, 0, frozenset({c}), "00ff")))
    with pytest.raises(CannotSign):
        codecs[a0].encode(forged)
    # ...and a1's name on a0's signature bytes does not verify
    obj = msgpack.unpackb(frames["certify"][2], raw=False)
    obj[5][0] = 1
    with pytest.raises(DecodeError, match="bad signature of a1"):
        codecs[a2].decode(msgpack.packb(obj))
    # a frame signed by one party but claiming another sender
    payload = bytearray(_frame(cfg, aggregator(3), a0, frames["certify"][2])[HEADER.size :])
    obj = msgpack.unpackb(bytes(payload[1:]), raw=False)
    obj[1] = 1
    with pytest.raises(DecodeError, match="bad frame signature"):
        decode_frame(b"\x01" + msgpack.packb(obj), keys, a0, CAP)
    # a frame for someone else
    with pytest.raises(DecodeError, match="not a0"):
        decode_frame(_frame(cfg, aggregator(3), a2, frames["certify"][2])[HEADER.size :], keys, a0, CAP)
    # oversized
    with pytest.raises(DecodeError, match="exceeds the cap"):
        decode_frame(b"\x01" + bytes(CAP + 1), keys, a0, CAP)


def test_server_drops_bad_frames_and_keeps_serving(setup, tmp_path: Path) -> None:
    """Garbage, a bad signature, a replayed frame and an oversized frame: each dropped (and logged),
    the valid contribution acknowledged and applied exactly once, the server still up."""
    cfg = _cluster(tmp_path)
    _, keys, _, _, _ = setup
    ctx = Context(P, cfg.domain(), RULES)
    c = min(ctx.clusters(0)[0])
    _, sends = on_train_done(ctx, initial_client(ctx, c))
    body = Codec(P, client(c), public_keys(cfg), load_private(cfg, client(c)).sign).encode(sends[0][1])
    a0 = aggregator(0)
    node = Node(cfg, a0)
    good = _frame(cfg, client(c), a0, body)
    bad_sig = bytearray(good)
    bad_sig[-5] ^= 1

    async def scenario() -> list[bytes]:
        task = asyncio.ensure_future(node.run(signals=False))
        await asyncio.wait_for(node.listening.wait(), 10)
        port = cfg.parties[a0].port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        acks = []
        writer.write(HEADER.pack(7) + b"garbage")
        writer.write(bytes(bad_sig))
        writer.write(good)
        writer.write(good)  # replayed
        for _ in range(2):
            payload = await asyncio.wait_for(read_payload(reader, CAP), 10)
            acks.append(decode_frame(payload, public_keys(cfg), client(c), CAP))
        writer.write(HEADER.pack(2**31))  # announces 2 GiB: the connection is closed
        assert await asyncio.wait_for(reader.read(), 10) == b""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)  # still serving
        again = _frame(cfg, client(c), a0, body)
        writer.write(again)
        payload = await asyncio.wait_for(read_payload(reader, CAP), 10)
        acks.append(decode_frame(payload, public_keys(cfg), client(c), CAP))
        writer.close()
        node.stop()
        await asyncio.wait_for(task, 10)
        return acks

    acks = asyncio.run(scenario())
    assert all(a.kind == KIND_ACK and a.src == a0 for a in acks)
    assert node.stats["bad_frames"] >= 3  # garbage, bad signature, oversized
    assert node.stats["replayed_frames"] == 1 and node.stats["duplicates"] == 1
    contribs = [i for i in read_inputs(cfg.store_path(a0)) if i.src_role == "c"]
    assert len(contribs) == 1 and contribs[0].src_index == c
    log = cfg.log_path(a0)
    assert not log.exists() or "Traceback" not in log.read_text()


def test_a_client_accepts_only_certified_models_over_the_wire(setup, tmp_path: Path) -> None:
    """P4 with real signatures: a Byzantine a3 replays the CERTIFY signatures it received (of a0 and
    a1) into a proof; the honest model is accepted, an altered one with the same proof is refused."""
    import numpy as np
    from asfl.reference.field_domain import Vec
    from asfl.spec.certificates import replay_model
    from asfl.spec.messages import CertifiedResult, ModelMsg

    cfg = _cluster(tmp_path)
    ctx = Context(P, cfg.domain(), RULES)
    codec = {
        p: Codec(P, p, public_keys(cfg), load_private(cfg, p).sign, load_private(cfg, p).kx)
        for p in cfg.parties
    }
    byz = aggregator(3)
    results = []
    for i in range(P.n_a - P.t_a):
        members = frozenset(sorted(ctx.clusters(0)[i])[: P.m])
        agg = Vec(np.full(P.d, 1000 * (i + 1), dtype=np.int64))
        digest = ctx.domain.digest(agg)
        sigs = []
        for j in (0, 1):  # certified by a0 and a1; a3 received their CERTIFY messages
            cert = Certify(0, i, members, digest, Sig(j, certify_payload(0, i, members, digest)))
            codec[byz].decode(codec[aggregator(j)].encode(cert))
            sigs.append(cert.sig)
        results.append(CertifiedResult(i, members, agg, tuple(sigs)))
    proof = (tuple(results),)
    honest, problem = replay_model(ctx, proof)
    assert problem is None
    forged = codec[byz].encode(ModelMsg(1, Vec(np.asarray(honest.a) + 0.5), proof))
    genuine = codec[byz].encode(ModelMsg(1, honest, proof))
    c = 0

    async def scenario() -> Node:
        node = Node(cfg, client(c))
        node.store = Store(cfg.store_path(client(c)))
        node._initial()
        node.handle(byz, forged)
        assert node.state.model_round == 0
        node.handle(byz, genuine)
        node.store.close()
        return node

    node = asyncio.run(scenario())
    assert node.refused["P4 model proof"] == 1
    assert node.state.model_round == 1 and node.state.model == honest
