"""The wire format: frames, spec messages, real signatures and sealed shares (PROTOCOL.md sections 1, 5).

A frame is `length (4 bytes, big endian) | version (1 byte) | msgpack [src role, src index, dst
role, dst index, kind, nonce, body, signature]`; `length` counts from the version byte and is capped
(`max_frame`). The signature is Ed25519 by the sender over everything but itself, so links are
authenticated (section 1) and a frame cannot be redirected to another party; the 16-byte nonce names
the frame for acknowledgements and makes a replayed frame recognisable. `kind` is MSG (the body is
one spec message) or ACK (the body is the nonce acknowledged).

The spec's signatures are ideal (`Sig` names signer and payload); here each carries a real Ed25519
signature over `signing.canonical(payload)`, and a client signs its whole CONTRIB. A party re-sends
only signatures it verified or made, so a Byzantine aggregator can replay what it saw and sign as
itself, exactly what `spec.world.forgery` allows. The share `sealed[j]` is encrypted to aggregator j
(X25519 with an ephemeral key, HKDF-SHA256, ChaCha20-Poly1305 bound to (r, c, j)); any other party
holds it as an opaque `SealedBox`, and relays the ciphertext unchanged.

Hostile bytes: every field is checked for type, range and length; anything else is a `DecodeError`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np
from asfl.spec.messages import (
    CertifiedResult,
    Certify,
    Cluster,
    Contrib,
    Endorsement,
    Message,
    ModelMsg,
    Party,
    Reveal,
    Sealed,
    ShareSum,
    Sig,
    UnmaskReq,
)
from asfl.spec.params import Params
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..field_domain import Vec
from ..mac_rules import TaggedVec
from ..signing import canonical

VERSION = 1
KIND_MSG = 0
KIND_ACK = 1
HEADER = struct.Struct(">I")
NONCE_BYTES = 16
_ZERO_NONCE = bytes(12)


class DecodeError(ValueError):
    """Bytes that are not a valid frame or message for this party: dropped and logged."""


class CannotSign(ValueError):
    """A message carries a signature or contribution this party neither made nor verified."""


class SealedBox:
    """A share sealed to another aggregator: only its ciphertext, compared by value."""

    __slots__ = ("ct",)

    def __init__(self, ct: bytes) -> None:
        self.ct = ct

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SealedBox) and other.ct == self.ct

    def __hash__(self) -> int:
        return hash(self.ct)

    def __repr__(self) -> str:
        return f"SealedBox({len(self.ct)} bytes)"


class OpenedShare(TaggedVec):
    """A share sealed to this aggregator, opened; keeps its ciphertext so relays re-send it as sent."""

    __slots__ = ("ct",)

    def __init__(self, a: np.ndarray, tags: np.ndarray, ct: bytes) -> None:
        super().__init__(a, tags)
        self.ct = ct


@dataclass(frozen=True)
class Frame:
    src: Party
    dst: Party
    kind: int
    nonce: bytes
    body: bytes


@dataclass(frozen=True)
class PublicKeys:
    sign: Mapping[Party, Ed25519PublicKey]
    kx: Mapping[int, X25519PublicKey]  # aggregator -> sealing key


def raw_public(key: Any) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- frames ------------------------------------------------------------------------------------
def _frame_signed_part(src: Party, dst: Party, kind: int, nonce: bytes, body: bytes) -> bytes:
    return b"asfl-frame/1" + msgpack.packb([src.role, src.index, dst.role, dst.index, kind, nonce, body])


def encode_frame(
    key: Ed25519PrivateKey, src: Party, dst: Party, kind: int, body: bytes, nonce: bytes
) -> bytes:
    sig = key.sign(_frame_signed_part(src, dst, kind, nonce, body))
    payload = bytes([VERSION]) + msgpack.packb(
        [src.role, src.index, dst.role, dst.index, kind, nonce, body, sig]
    )
    return HEADER.pack(len(payload)) + payload


def new_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def _party(role: Any, index: Any) -> Party:
    if role not in ("a", "c") or not isinstance(index, int) or isinstance(index, bool):
        raise DecodeError("bad party")
    return Party(role, index)


def decode_frame(payload: bytes, keys: PublicKeys, me: Party, max_frame: int) -> Frame:
    """Check one frame's payload (after the length prefix): version, shape, addressee, signature."""
    if len(payload) > max_frame:
        raise DecodeError(f"frame of {len(payload)} bytes exceeds the cap of {max_frame}")
    if not payload or payload[0] != VERSION:
        raise DecodeError(f"unknown wire version {payload[:1].hex() or 'none'}")
    fields = _unpack(payload[1:], max_frame)
    if not isinstance(fields, list) or len(fields) != 8:
        raise DecodeError("a frame is a list of 8 fields")
    src_role, src_idx, dst_role, dst_idx, kind, nonce, body, sig = fields
    src, dst = _party(src_role, src_idx), _party(dst_role, dst_idx)
    if kind not in (KIND_MSG, KIND_ACK) or isinstance(kind, bool):
        raise DecodeError("unknown frame kind")
    if not (isinstance(nonce, bytes) and len(nonce) == NONCE_BYTES):
        raise DecodeError("bad nonce")
    if not isinstance(body, bytes) or not isinstance(sig, bytes):
        raise DecodeError("body and signature must be bytes")
    if dst != me:
        raise DecodeError(f"frame for {dst}, not {me}")
    pub = keys.sign.get(src)
    if pub is None:
        raise DecodeError(f"unknown sender {src}")
    try:
        pub.verify(sig, _frame_signed_part(src, dst, kind, nonce, body))
    except InvalidSignature as e:
        raise DecodeError(f"bad frame signature from {src}") from e
    return Frame(src, dst, kind, nonce, body)


def _unpack(data: bytes, max_len: int) -> Any:
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_str_len=1 << 10,
            max_ext_len=0,
        )
    except Exception as e:  # ExtraData, FormatError, StackError, ValueError... on hostile input
        raise DecodeError(f"not msgpack ({type(e).__name__})") from e


# -- sealing (section 5: sealed[j] readable by j alone) -----------------------------------------
def _seal_key(shared: bytes, eph_pub: bytes, to_pub: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, None, b"asfl-seal/1" + eph_pub + to_pub).derive(shared)


def seal(to: X25519PublicKey, r: int, c: int, j: int, plaintext: bytes) -> bytes:
    eph = X25519PrivateKey.generate()
    eph_pub = raw_public(eph)
    to_pub = to.public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _seal_key(eph.exchange(to), eph_pub, to_pub)
    return eph_pub + ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, plaintext, msgpack.packb([r, c, j]))


def open_sealed(me: X25519PrivateKey, r: int, c: int, j: int, ct: bytes) -> bytes:
    if len(ct) < 32 + 16:
        raise DecodeError("sealed share too short")
    try:
        eph = X25519PublicKey.from_public_bytes(ct[:32])
        key = _seal_key(me.exchange(eph), ct[:32], raw_public(me))
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, ct[32:], msgpack.packb([r, c, j]))
    except (InvalidTag, ValueError) as e:
        raise DecodeError(f"sealed share of client {c} for aggregator {j} does not open") from e


# -- message bodies ----------------------------------------------------------------------------
def _int(x: Any, lo: int = 0, hi: int = 1 << 62) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or not lo <= x < hi:
        raise DecodeError(f"expected an integer in [{lo}, {hi}), got {type(x).__name__}")
    return x


def _list(x: Any, n: int | None = None, cap: int = 1 << 16) -> list:
    if not isinstance(x, list) or (n is not None and len(x) != n) or len(x) > cap:
        raise DecodeError("expected a list" + (f" of {n}" if n is not None else ""))
    return x


class Codec:
    """Encodes and decodes spec messages for party `me`, keeping the real signatures it verified
    or made (a `Sig` or `Contrib` is re-sent with the bytes it arrived with).

    `trusting=True` (only for re-reading one's own log or a recorded run) skips signature checks
    and never opens sealed shares."""

    def __init__(
        self,
        params: Params,
        me: Party,
        keys: PublicKeys,
        sign_key: Ed25519PrivateKey | None = None,
        kx_key: X25519PrivateKey | None = None,
        trusting: bool = False,
    ) -> None:
        self.params, self.me, self.keys = params, me, keys
        self.sign_key, self.kx_key, self.trusting = sign_key, kx_key, trusting
        self.sigs: dict[tuple[int, bytes], bytes] = {}  # (signer, canonical payload) -> signature
        self.contribs: dict[Contrib, list] = {}  # contrib -> its wire form (sealed boxes, client signature)
        self._decoded_contribs: dict[bytes, Contrib] = {}  # client signature -> decoded contrib
        self._elem, self._width = ("<u4", 4) if params.q <= 2**32 else ("<u8", 8)

    # values: field elements of q <= 2^32 travel as 4 bytes (unsigned, little endian)
    def _elems(self, a: np.ndarray) -> bytes:
        return np.asarray(a).astype(self._elem).tobytes()

    def _value(self, v: Any) -> list:
        if isinstance(v, TaggedVec):
            return ["t", self._elems(v.a), self._elems(v.tags)]
        return ["v", self._elems(v.a)]

    def _int_array(self, raw: Any, n: int) -> np.ndarray:
        if not isinstance(raw, bytes) or len(raw) != self._width * n:
            raise DecodeError(f"expected {n} field elements")
        a = np.frombuffer(raw, dtype=self._elem).astype(np.int64)
        if a.size and a.max() >= self.params.q:
            raise DecodeError("field element out of range")
        return a

    def _decode_value(self, obj: Any) -> Vec:
        obj = _list(obj, cap=3)
        if len(obj) == 2 and obj[0] == "v":
            return Vec(self._int_array(obj[1], self.params.d))
        if len(obj) == 3 and obj[0] == "t":
            return TaggedVec(self._int_array(obj[1], self.params.d), self._int_array(obj[2], self.params.n_a))
        raise DecodeError("bad value")

    def _decode_model(self, obj: Any) -> Vec:
        obj = _list(obj, 2)
        if obj[0] != "w" or not isinstance(obj[1], bytes) or len(obj[1]) != 8 * self.params.d:
            raise DecodeError("bad model")
        return Vec(np.frombuffer(obj[1], dtype="<f8").astype(np.float64))

    def _members(self, obj: Any) -> frozenset[int]:
        members = [_int(c, 0, self.params.n_c) for c in _list(obj, cap=self.params.n_c)]
        if len(set(members)) != len(members):
            raise DecodeError("repeated member")
        return frozenset(members)

    # signatures
    def _sig(self, sig: Sig) -> list:
        payload = canonical(sig.payload)
        raw = self.sigs.get((sig.signer, payload))
        if raw is None:
            if self.sign_key is None or self.me != Party("a", sig.signer):
                raise CannotSign(f"{self.me} holds no signature of a{sig.signer} on {sig.payload!r}")
            raw = self.sigs[(sig.signer, payload)] = self.sign_key.sign(b"asfl-sig/1" + payload)
        return [sig.signer, _payload_obj(sig.payload), raw]

    def _decode_sig(self, obj: Any) -> Sig:
        signer, payload_obj, raw = _list(obj, 3)
        signer = _int(signer, 0, self.params.n_a)
        payload = _payload_from(payload_obj)
        if not isinstance(raw, bytes) or len(raw) != 64:
            raise DecodeError("bad signature bytes")
        try:
            canon = canonical(payload)
        except TypeError as e:
            raise DecodeError("unsignable payload") from e
        known = self.sigs.get((signer, canon))
        if known != raw:
            if not self.trusting:
                try:
                    self.keys.sign[Party("a", signer)].verify(raw, b"asfl-sig/1" + canon)
                except InvalidSignature as e:
                    raise DecodeError(f"bad signature of a{signer}") from e
            self.sigs[(signer, canon)] = raw
        return Sig(signer, payload)

    # contributions
    def _contrib(self, msg: Contrib) -> list:
        wire = self.contribs.get(msg)
        if wire is None:
            if self.sign_key is None or self.me != Party("c", msg.c):
                raise CannotSign(f"{self.me} holds no signed contribution of c{msg.c} for round {msg.r}")
            boxes = []
            for s in msg.sealed:
                plain = msgpack.packb([self._elems(s.share.a), self._elems(s.share.tags)])
                boxes.append(seal(self.keys.kx[s.to], msg.r, msg.c, s.to, plain))
            head = [msg.r, msg.c, msg.r_model, self._value(msg.y), boxes]
            sig = self.sign_key.sign(b"asfl-contrib/1" + msgpack.packb(head))
            wire = self.contribs[msg] = head + [sig]
        return wire

    def _decode_contrib(self, obj: Any) -> Contrib:
        r, c, r_model, y, boxes, sig = _list(obj, 6)
        if not isinstance(sig, bytes) or len(sig) != 64:
            raise DecodeError("bad contribution signature bytes")
        r, c, r_model = _int(r), _int(c, 0, self.params.n_c), _int(r_model)
        cached = self._decoded_contribs.get(sig)
        if cached is not None:
            if self.contribs.get(cached) != [r, c, r_model, y, boxes, sig]:
                raise DecodeError(f"contribution of c{c} altered under its signature")
            return cached
        boxes = _list(boxes, cap=self.params.n_a)
        if not all(
            isinstance(b, bytes) and len(b) <= 64 + 16 * self.params.d + 8 * self.params.n_a + 64
            for b in boxes
        ):
            raise DecodeError("bad sealed share")
        head = [r, c, r_model, y, boxes]
        if not self.trusting:
            try:
                self.keys.sign[Party("c", c)].verify(sig, b"asfl-contrib/1" + msgpack.packb(head))
            except InvalidSignature as e:
                raise DecodeError(f"bad contribution signature of c{c}") from e
        sealed = []
        for j, ct in enumerate(boxes):
            if self.kx_key is not None and self.me == Party("a", j):
                parts = _list(_unpack(open_sealed(self.kx_key, r, c, j, ct), 1 << 24), 2)
                share = OpenedShare(
                    self._int_array(parts[0], self.params.d), self._int_array(parts[1], self.params.n_a), ct
                )
            else:
                share = SealedBox(ct)
            sealed.append(Sealed(j, share))
        msg = Contrib(r, c, r_model, self._decode_value(y), tuple(sealed))
        self.contribs[msg] = head + [sig]
        self._decoded_contribs[sig] = msg
        return msg

    # messages
    def encode(self, msg: Message) -> bytes:
        """The body of a MSG frame; `CannotSign` if it carries a signature this party cannot produce."""
        return msgpack.packb(self._obj(msg))

    def _obj(self, msg: Message) -> list:
        if isinstance(msg, Contrib):
            return ["C", self._contrib(msg)]
        if isinstance(msg, UnmaskReq):
            return ["U", msg.r, msg.i, sorted(msg.members), [self._contrib(c) for c in msg.contribs]]
        if isinstance(msg, Endorsement):
            return ["E", msg.r, msg.i, sorted(msg.members), msg.sender, self._sig(msg.sig)]
        if isinstance(msg, Reveal):
            return ["R", msg.r, msg.i, sorted(msg.members), [self._sig(s) for s in msg.sigs]]
        if isinstance(msg, ShareSum):
            return ["S", self._share_sum(msg)]
        if isinstance(msg, Cluster):
            return [
                "L",
                msg.r,
                msg.i,
                sorted(msg.members),
                [self._contrib(c) for c in msg.contribs],
                [self._share_sum(s) for s in msg.sums],
            ]
        if isinstance(msg, Certify):
            return ["F", msg.r, msg.i, sorted(msg.members), str(msg.agg_digest), self._sig(msg.sig)]
        if isinstance(msg, ModelMsg):
            proof = [
                [
                    [res.i, sorted(res.members), self._value(res.agg), [self._sig(s) for s in res.sigs]]
                    for res in rnd
                ]
                for rnd in msg.proof
            ]
            return ["M", msg.r, ["w", np.asarray(msg.w.a, dtype="<f8").tobytes()], proof]
        raise CannotSign(f"not a spec message: {type(msg).__name__}")

    def _share_sum(self, s: ShareSum) -> list:
        return [s.r, s.i, sorted(s.members), s.sender, self._value(s.total), self._sig(s.endorsement)]

    def _decode_share_sum(self, obj: Any) -> ShareSum:
        r, i, members, sender, total, sig = _list(obj, 6)
        return ShareSum(
            _int(r),
            _int(i, 0, self.params.n_a),
            self._members(members),
            _int(sender, 0, self.params.n_a),
            self._decode_value(total),
            self._decode_sig(sig),
        )

    def decode(self, body: bytes) -> Message:
        """A spec message from a MSG frame's body, every signature checked; `DecodeError` otherwise."""
        obj = _list(_unpack(body, len(body) + 1), cap=8)
        if not obj or not isinstance(obj[0], str):
            raise DecodeError("a message starts with its type")
        tag, rest = obj[0], obj[1:]
        n_a = self.params.n_a
        if tag == "C" and len(rest) == 1:
            return self._decode_contrib(rest[0])
        if tag == "U" and len(rest) == 4:
            r, i, members, contribs = rest
            cs = tuple(self._decode_contrib(c) for c in _list(contribs, cap=self.params.n_c))
            return UnmaskReq(_int(r), _int(i, 0, n_a), self._members(members), cs)
        if tag == "E" and len(rest) == 5:
            r, i, members, sender, sig = rest
            return Endorsement(
                _int(r), _int(i, 0, n_a), self._members(members), _int(sender, 0, n_a), self._decode_sig(sig)
            )
        if tag == "R" and len(rest) == 4:
            r, i, members, sigs = rest
            return Reveal(
                _int(r),
                _int(i, 0, n_a),
                self._members(members),
                tuple(self._decode_sig(s) for s in _list(sigs, cap=n_a)),
            )
        if tag == "S" and len(rest) == 1:
            return self._decode_share_sum(rest[0])
        if tag == "L" and len(rest) == 5:
            r, i, members, contribs, sums = rest
            return Cluster(
                _int(r),
                _int(i, 0, n_a),
                self._members(members),
                tuple(self._decode_contrib(c) for c in _list(contribs, cap=self.params.n_c)),
                tuple(self._decode_share_sum(s) for s in _list(sums, cap=n_a)),
            )
        if tag == "F" and len(rest) == 5:
            r, i, members, digest, sig = rest
            if not isinstance(digest, str) or len(digest) > 64:
                raise DecodeError("bad digest")
            return Certify(_int(r), _int(i, 0, n_a), self._members(members), digest, self._decode_sig(sig))
        if tag == "M" and len(rest) == 3:
            r, w, proof = rest
            rounds = []
            for rnd in _list(proof, cap=self.params.R):
                results = []
                for res in _list(rnd, cap=n_a):
                    i, members, agg, sigs = _list(res, 4)
                    results.append(
                        CertifiedResult(
                            _int(i, 0, n_a),
                            self._members(members),
                            self._decode_value(agg),
                            tuple(self._decode_sig(s) for s in _list(sigs, cap=n_a)),
                        )
                    )
                rounds.append(tuple(results))
            return ModelMsg(_int(r), self._decode_model(w), tuple(rounds))
        raise DecodeError(f"unknown message type {tag!r}")


def _payload_obj(payload: tuple[Hashable, ...]) -> list:
    return [sorted(x) if isinstance(x, frozenset) else x for x in payload]


def _payload_from(obj: Any) -> tuple[Hashable, ...]:
    out: list[Hashable] = []
    for x in _list(obj, cap=8):
        if isinstance(x, list):
            out.append(frozenset(_int(e) for e in x[:1024]))
        elif isinstance(x, str) and len(x) <= 64 or isinstance(x, int) and not isinstance(x, bool):
            out.append(x)
        else:
            raise DecodeError("bad signature payload")
    return tuple(out)


# -- message identity --------------------------------------------------------------------------
def message_key(msg: Message) -> bytes:
    """What a message says, without ciphertexts or signature bytes: equal for the message a party
    sent and the one its receiver decoded (and for the spec world's copy of it), so it identifies a
    message across the wire, a restart, and a replay."""
    return hashlib.sha256(msgpack.packb(_key_obj(msg))).digest()


def _key_value(v: Any) -> list:
    if isinstance(v, TaggedVec):
        return ["t", np.asarray(v.a, "<i8").tobytes(), np.asarray(v.tags, "<i8").tobytes()]
    if np.asarray(v.a).dtype.kind == "f":
        return ["w", np.asarray(v.a, "<f8").tobytes()]
    return ["v", np.asarray(v.a, "<i8").tobytes()]


def _key_obj(msg: Any) -> Any:
    if isinstance(msg, Sig):
        return [msg.signer, _payload_obj(msg.payload)]
    if isinstance(msg, Contrib):
        return ["C", msg.r, msg.c, msg.r_model, _key_value(msg.y), [s.to for s in msg.sealed]]
    if isinstance(msg, Vec):
        return _key_value(msg)
    if isinstance(msg, frozenset):
        return sorted(msg)
    if isinstance(msg, tuple):
        return [_key_obj(x) for x in msg]
    if isinstance(msg, int | str):
        return msg
    fields = [type(msg).__name__]
    for name in msg.__dataclass_fields__:
        fields.append(_key_obj(getattr(msg, name)))
    return fields
