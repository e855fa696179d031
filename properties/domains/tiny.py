"""A tiny exact value domain for the exhaustive explorer: d = 1, values are Python ints in F_q.

Hashing a state must be cheap and exact, so values are plain integers (they also encode as ITF
integers, so a Byzantine injection that carries values replays from a trace), models are exact
fractions, and a digest is the value itself (P1 and P4 compare numbers, not hashes). Every draw is
a deterministic function of (seed, label), as the spec requires (ARCHITECTURE.md, "Randomness is
explicit"). Traces name it "tiny" (`traces.make_domain`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from fractions import Fraction
from functools import lru_cache

from asfl.spec.domain import Label
from asfl.spec.params import Params

_KINDS = {"pad": 1, "coef": 2, "data": 3, "noise": 4}


@lru_cache(maxsize=1 << 16)
def _draw(seed: int, kind: int, party: int, r: int, index: int, q: int) -> int:
    digest = hashlib.sha256(f"{seed}/{kind}/{party}/{r}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % q


class TinyDomain:
    """Field elements of F_q (d = 1) as ints; models as `Fraction`s."""

    def __init__(self, params: Params, seed: int) -> None:
        self.params = params
        self.q = params.q
        self.seed = seed

    def zero(self) -> int:
        return 0

    def add(self, a: int, b: int) -> int:
        return (a + b) % self.q

    def sub(self, a: int, b: int) -> int:
        return (a - b) % self.q

    def scale(self, a: int, k: int) -> int:
        return a * (k % self.q) % self.q

    def linear_combination(self, parts: Sequence[tuple[int, int]]) -> int:
        return sum(v * k for v, k in parts) % self.q

    def draw(self, label: Label) -> int:
        return _draw(self.seed, _KINDS[label.kind], label.party, label.round, label.index, self.q)

    def data(self, c: int, r_model: int, model: Fraction) -> int:
        """A small, distinct, non-zero update per (client, model round): exact sums stay readable."""
        return (1000 * (c + 1) + 10 * (r_model + 1)) % self.q

    def noise(self, c: int, r_model: int, variance: float) -> int:
        """A small non-zero noise term per (client, model round), distinct from every data value."""
        return (c + 1 + 3 * r_model) % self.q

    def equal(self, a: int, b: int) -> bool:
        return a == b

    def digest(self, a: int) -> Hashable:
        return a

    def genesis_model(self) -> Fraction:
        return Fraction(0)

    def centred(self, v: int) -> int:
        return v - self.q if v > self.q // 2 else v

    def apply_update(self, w: Fraction, total: int, count: int) -> Fraction:
        return w + Fraction(self.params.eta) * Fraction(self.centred(total), max(count, 1))

    def model_digest(self, w: Fraction) -> Hashable:
        return w
