"""Share compression: T-1 of the n_a Shamir shares come from per-aggregator PRG seeds.

PROTOCOL.md section 4 shares the pad rho with a polynomial p of degree T-1 whose coefficients are
uniform, and uploads every share p(j+1) in full: (1 + n_a) field vectors per client. [ours] The
same polynomial can be fixed by T values instead of T coefficients: p(0) = rho and the shares of
aggregators 0..T-2, s_k = p(k) for k = 1..T-1, each drawn from a PRG seed the client seals to that
aggregator alone. The other n_a - T + 1 shares, p(x) for x = T..n_a, are the Lagrange combinations
of those T values, with integer coefficients (nodes 0..T-1: lambda_k(x) = prod_{m != k} (x - m) /
(k - m) is an integer for integer x). A client uploads the masked value y, n_a - T + 1 full shares
and T-1 seeds: (n_a - T + 2) vectors, 3 for n_a = 4, against 5.

Why the coalition's view is distributed exactly as with full Shamir (the argument the tests check
by enumeration at a small q, and P3's rank check on the symbolic domain):
  1. In full Shamir, (rho, a_1, ..., a_{T-1}) is uniform on F_q^T. The map to (p(0), ..., p(T-1))
     is the Vandermonde matrix of the distinct nodes 0..T-1: invertible, so (rho, s_1, ...,
     s_{T-1}) is also uniform on F_q^T, and every other share is the same fixed linear function
     of it in both schemes.
  2. Here (rho, s_1, ..., s_{T-1}) is uniform by construction (rho from the client's own PRG key,
     each s_k from the seed of aggregator k-1) when the PRG is ideal. So the joint law of
     (x, rho, p(1), ..., p(n_a)) is the same in both schemes, and so is the law of anything
     computed from it and independent randomness: in particular the view of any coalition.
  3. A coalition member k-1 < T-1 receives a seed instead of s_k. The seed is independent of
     everything else the client draws and s_k is a function of it, so holding it tells the
     coalition nothing about the other values that s_k does not; with a real PRG the difference
     from an ideal one is computational (the standard hybrid over the T-1 seeds), never more.
  4. A seed is never one of the pad rho: rho's key is the client's own, so no single aggregator
     (nor t_a < T of them) can expand an individual pad, which is what section 4 forbids.

Where the cost goes: the client expands T-1 seeds (AES-CTR) and computes n_a - T + 1 small-integer
combinations with one reduction each, against T-1 coefficient vectors and n_a Horner evaluations of
degree T-1 with a reduction per product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from math import comb

import numpy as np
from asfl.spec.context import Context
from asfl.spec.domain import Label, share_point
from asfl.spec.messages import Sealed
from asfl.spec.rules import STANDARD, Rules

#: bytes of one per-aggregator seed (an AES-256 key)
SEED_BYTES = 32
#: bytes of one field element on the wire (q < 2^31)
ELEMENT_BYTES = 4


@lru_cache(maxsize=256)
def integer_lagrange(threshold: int, x: int) -> tuple[int, ...]:
    """lambda_k(x), k = 0..T-1, with p(x) = sum_k lambda_k p(k) for every p of degree < T; integers."""
    out = []
    for k in range(threshold):
        lam = Fraction(1)
        for m in range(threshold):
            if m != k:
                lam *= Fraction(x - m, k - m)
        assert lam.denominator == 1
        out.append(int(lam))
    return tuple(out)


def seeded_aggregators(n_a: int, threshold: int) -> range:
    """Aggregators whose share comes from a seed: 0..T-2 (points 1..T-1)."""
    return range(threshold - 1)


def newton_pairs(threshold: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """The T-th difference of a degree T-1 polynomial is zero, so p(x) = sum_{k=1..T} (-1)^(k+1)
    C(T, k) p(x - k). C(T, k) = C(T, T - k): terms k and T - k share a coefficient and, for odd T,
    have opposite signs, so they pair into one difference. Returns ([(coef, k, l)]: coef (p(x-k) -
    p(x-l))), [(coef, k)]: the unpaired terms)."""
    terms = {k: (-1) ** (k + 1) * comb(threshold, k) for k in range(1, threshold + 1)}
    pairs, single = [], []
    done: set[int] = set()
    for k in range(1, threshold + 1):
        if k in done:
            continue
        mate = threshold - k
        if 1 <= mate <= threshold and mate != k and mate not in done and terms[mate] == -terms[k]:
            pairs.append((terms[k], k, mate))
            done |= {k, mate}
        else:
            single.append((terms[k], k))
            done.add(k)
    return pairs, single


def full_shares(rho: np.ndarray, seeded: Sequence[np.ndarray] | np.ndarray, n_a: int, q: int) -> np.ndarray:
    """p(x) for x = T..n_a (aggregators T-1..n_a-1) from rho = p(0) and seeded[k-1] = p(k).

    rho: (d,), seeded: (T-1, d), all in [0, q). Each share comes from the T values before it by the
    finite-difference recurrence (`newton_pairs`; for T = 3, p(x) = 3 (p(x-1) - p(x-2)) + p(x-3)):
    small-integer arithmetic in int64 (checked not to overflow) and one reduction per share. The
    result equals the integer Lagrange combination of rho and the seeded shares (tested)."""
    threshold = len(seeded) + 1
    pairs, single = newton_pairs(threshold)
    if (2**threshold) * q >= 2**63:
        raise OverflowError(f"T={threshold} is too large for int64 arithmetic at q={q}")
    out = np.empty((n_a - threshold + 1, rho.shape[0]), dtype=np.int64)
    values: list[np.ndarray] = [rho, *seeded]  # p(0), p(1), ...
    tmp = np.empty_like(rho, dtype=np.int64)  # one scratch vector: allocations cost more than the ops
    for row, x in enumerate(range(threshold, n_a + 1)):
        acc = out[row]
        first = True
        for coef, k, mate in pairs:
            target = acc if first else tmp
            np.subtract(values[x - k], values[x - mate], out=target)
            if coef != 1:
                np.multiply(target, coef, out=target)
            if not first:
                np.add(acc, tmp, out=acc)
            first = False
        for coef, k in single:
            if first:
                np.multiply(values[x - k], coef, out=acc)
                first = False
            elif coef == 1:
                np.add(acc, values[x - k], out=acc)
            elif coef == -1:
                np.subtract(acc, values[x - k], out=acc)
            else:
                np.multiply(values[x - k], coef, out=tmp)
                np.add(acc, tmp, out=acc)
        np.remainder(acc, q, out=acc)
        values.append(acc)
    return out


def mask_centred(x: np.ndarray, rho: np.ndarray, q: int) -> np.ndarray:
    """y = x + rho in F_q for a centred integer x (|x| < q/2, the encoded value before reduction)
    and rho in [0, q): one addition and one reduction, never a wrap (x's range is checked upstream)."""
    y = x + rho
    np.remainder(y, q, out=y)
    return y


def all_shares(rho: np.ndarray, seeded: np.ndarray, n_a: int, q: int) -> np.ndarray:
    """Every aggregator's share, (n_a, d): the seeded ones, then the computed ones."""
    return np.concatenate([seeded, full_shares(rho, seeded, n_a, q)])


def upload_bytes(d: int, n_a: int, threshold: int, tags: bool = True) -> int:
    """What one client sends: y, n_a - T + 1 full shares, T - 1 seeds, and the n_a^2 A1 tags."""
    vectors = 1 + n_a - threshold + 1
    tag_bytes = ELEMENT_BYTES * n_a * n_a if tags else 0
    return ELEMENT_BYTES * d * vectors + SEED_BYTES * (threshold - 1) + tag_bytes


def compressed_mask(ctx: Context, c: int, r: int, x):
    """Section 4's mask with compressed shares (module docstring): y = x + rho; the shares of
    aggregators 0..T-2 are fresh draws (on the wire: expanded from seeds sealed to each), the rest
    are their integer Lagrange combinations with rho. Written against the domain interface, so
    the symbolic domain checks it (P1, P3) exactly as the concrete one runs it. The draws reuse
    the label kind "coef" (index k = the point k whose value is drawn): the same one-time
    randomness as the standard rule's coefficients, in another basis."""
    params, domain = ctx.params, ctx.domain
    assert params.T is not None
    threshold = params.T
    rho = domain.draw(Label("pad", c, r))
    values = [rho] + [domain.draw(Label("coef", c, r, k)) for k in range(1, threshold)]
    sealed = []
    for j in range(params.n_a):
        x_j = share_point(j)
        if x_j < threshold:
            share = values[x_j]
        else:
            share = domain.zero()
            for lam, v in zip(integer_lagrange(threshold, x_j), values, strict=True):
                share = domain.add(share, domain.scale(v, lam % domain.q))
        sealed.append(Sealed(j, share))
    return domain.add(x, rho), tuple(sealed)


#: the standard rules with compressed shares
COMPRESSED: Rules = replace(STANDARD, name="compressed-shares", mask=compressed_mask)
