"""A concrete value domain: numpy vectors in F_q (the spec's `Domain` interface, ARCHITECTURE.md).

Small and exact: enough to run the spec end to end and see that unmasked sums equal the sums of the
clients' values. Every draw is a deterministic function of (seed, label), through numpy's
SeedSequence, so a run is a function of its seed and its schedule. The data of a client is a
keyed Gaussian "update", clipped to L2 norm C and encoded in fixed point; its noise is a rounded
Gaussian of variance sigma^2/m in the same scale (the reference's exact discrete sampler replaces it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence

import numpy as np
from asfl.spec.domain import Label
from asfl.spec.params import Params

_KINDS = {"pad": 1, "coef": 2, "data": 3, "noise": 4}


class Vec:
    """An immutable numpy vector that compares and hashes by value (messages are frozen data)."""

    __slots__ = ("a", "_hash")

    def __init__(self, a: np.ndarray) -> None:
        a = np.ascontiguousarray(a)
        a.setflags(write=False)
        self.a = a
        self._hash: int | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vec) and np.array_equal(self.a, other.a)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.a.tobytes())
        return self._hash

    def __repr__(self) -> str:
        return f"Vec({self.a.tolist()!r})"


class EncodingError(ValueError):
    """A value does not fit the fixed-point range: refused, never wrapped silently."""


def encode(params: Params, u: np.ndarray) -> np.ndarray:
    """Fixed point: round(u * scale), checked against the field's centred range."""
    v = np.rint(np.asarray(u, dtype=np.float64) * params.scale)
    bound = (params.q - 1) // 2
    if np.any(np.abs(v) > bound):
        raise EncodingError(f"value out of fixed-point range |v*scale| <= {bound}")
    return np.mod(v.astype(np.int64), params.q)


def decode(params: Params, v: np.ndarray) -> np.ndarray:
    """The centred lift of a field vector, divided by the scale."""
    v = np.asarray(v, dtype=np.int64)
    centred = np.where(v > params.q // 2, v - params.q, v)
    return centred.astype(np.float64) / params.scale


def clip(u: np.ndarray, bound: float) -> np.ndarray:
    """Scale u down to L2 norm `bound` if it is longer."""
    norm = float(np.linalg.norm(u))
    return u if norm <= bound else u * (bound / norm)


class FieldDomain:
    """numpy vectors in F_q^d; models are float vectors."""

    def __init__(self, params: Params, seed: int) -> None:
        self.params = params
        self.q = params.q
        self.d = params.d
        self.seed = seed

    def _rng(self, label: Label) -> np.random.Generator:
        key = [self.seed, _KINDS[label.kind], label.party, label.round, label.index]
        return np.random.default_rng(np.random.SeedSequence(key))

    def zero(self) -> Vec:
        return Vec(np.zeros(self.d, dtype=np.int64))

    def add(self, a: Vec, b: Vec) -> Vec:
        return Vec((a.a + b.a) % self.q)

    def sub(self, a: Vec, b: Vec) -> Vec:
        return Vec((a.a - b.a) % self.q)

    def scale(self, a: Vec, k: int) -> Vec:
        # a < q < 2^31 and k < q: the product fits in int64
        return Vec(a.a * (k % self.q) % self.q)

    def linear_combination(self, parts: Sequence[tuple[Vec, int]]) -> Vec:
        # reduced after every product and every sum, as `scale` and `add`: int64 never overflows
        acc = np.zeros(self.d, dtype=np.int64)
        for v, k in parts:
            acc = (acc + v.a * (k % self.q) % self.q) % self.q
        return Vec(acc)

    def draw(self, label: Label) -> Vec:
        return Vec(self._rng(label).integers(0, self.q, size=self.d, dtype=np.int64))

    def data(self, c: int, r_model: int, model: Vec) -> Vec:
        u = self._rng(Label("data", c, r_model)).normal(0.0, 1.0, size=self.d)
        return Vec(encode(self.params, clip(u, self.params.clip)))

    def noise(self, c: int, r_model: int, variance: float) -> Vec:
        std = float(np.sqrt(variance))
        e = self._rng(Label("noise", c, r_model)).normal(0.0, std, size=self.d)
        return Vec(encode(self.params, e))

    def equal(self, a: Vec, b: Vec) -> bool:
        return a == b

    def digest(self, a: Vec) -> Hashable:
        return hashlib.sha256(a.a.tobytes()).hexdigest()[:16]

    def genesis_model(self) -> Vec:
        return Vec(np.zeros(self.d, dtype=np.float64))

    def apply_update(self, w: Vec, total: Vec, count: int) -> Vec:
        return Vec(w.a + self.params.eta * decode(self.params, total.a) / max(count, 1))

    def model_digest(self, w: Vec) -> Hashable:
        return hashlib.sha256(w.a.tobytes()).hexdigest()[:16]
