"""Vectors in F_q, fixed-point encoding with a checked range, Shamir sharing of whole vectors.

q = 2^31 - 1 (the spec default `Params.q`): a Mersenne prime, so F_q is a field (Shamir and
Lagrange need inverses) and every element fits in 31 bits. A product of two elements is below
2^62, so one multiply-then-reduce never leaves int64 and everything stays vectorised in numpy;
a sum of T such products could, so `interpolate_at_zero` reduces after every product.

Fixed point (PROTOCOL.md section 4, `x = encode(clip(update, C)) + noise`): a real u is encoded
as round(u * scale) mod q and decoded by the centred lift. The protocol adds up to `n_c` encoded
values (a round releases each client at most once, I1), so each value must stay within
`headroom = (q - 1) // 2 // n_c`: then no sum the protocol forms can wrap, and decoding it is
exact. A value outside that range is an `EncodingError`, never a silent wrap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from asfl.spec.domain import lagrange_at_zero

from .field_domain import EncodingError

__all__ = [
    "EncodingError",
    "headroom",
    "encode",
    "encode_centred",
    "encode_noisy",
    "decode",
    "clip",
    "shamir_share",
    "interpolate_at_zero",
]


def headroom(q: int, n_c: int) -> int:
    """The largest |integer| one client's encoded value may carry so that a sum of n_c never wraps."""
    return (q - 1) // 2 // max(n_c, 1)


def encode_centred(u: np.ndarray, scale: int, bound: int) -> np.ndarray:
    """round(u * scale) as int64, not yet reduced mod q; refuses any |round(u * scale)| > bound."""
    v = np.asarray(u, dtype=np.float64) * scale
    np.rint(v, out=v)
    # a NaN makes the extremes NaN, an infinity makes one infinite: both fail the comparison
    if not max(float(v.max(initial=0)), -float(v.min(initial=0))) <= bound:
        raise EncodingError(f"value out of the fixed-point range |u*scale| <= {bound} (scale={scale})")
    return v.astype(np.int64)


def encode_noisy(u: np.ndarray, scale: int, noise: np.ndarray, bound: int) -> np.ndarray:
    """round(u * scale) + noise as int64, not yet reduced; `noise` holds integers (as float64, from
    `sample_discrete_gaussian(..., as_float=True)`); refuses any |value| > bound. Equal to
    encode_centred(u, scale, ...) + noise, with one conversion and one range check instead of two:
    the fast client path (`benchmarks/bench_reference.py`)."""
    v = np.asarray(u, dtype=np.float64) * scale
    np.rint(v, out=v)
    v += noise  # integers below 2^53 add exactly in float64
    if not max(float(v.max(initial=0)), -float(v.min(initial=0))) <= bound:
        raise EncodingError(f"value out of the fixed-point range |u*scale + noise| <= {bound}")
    return v.astype(np.int64)


def encode(u: np.ndarray, scale: int, q: int, bound: int) -> np.ndarray:
    """round(u * scale) as field elements; refuses any coordinate with |round(u * scale)| > bound."""
    return np.mod(encode_centred(u, scale, bound), q)


def encode_int(v: np.ndarray, q: int, bound: int) -> np.ndarray:
    """Already-integer values (e.g. discrete noise) into F_q, with the same range check."""
    v = np.asarray(v, dtype=np.int64)
    if np.any(np.abs(v) > bound):
        raise EncodingError(f"integer value out of the checked range |v| <= {bound}")
    return np.mod(v, q)


def decode(v: np.ndarray, scale: int, q: int) -> np.ndarray:
    """The centred lift of field elements, divided by the scale."""
    v = np.asarray(v, dtype=np.int64)
    centred = np.where(v > q // 2, v - q, v)
    return centred.astype(np.float64) / scale


def clip(u: np.ndarray, bound: float) -> np.ndarray:
    """Scale u down to L2 norm `bound` if it is longer (the DP sensitivity, section 4)."""
    norm = float(np.linalg.norm(u))
    return u if norm <= bound else u * (bound / norm)


def shamir_share(secret: np.ndarray, coeffs: np.ndarray, xs: Sequence[int], q: int) -> np.ndarray:
    """Shares p(x) for every x in `xs`, p(X) = secret + sum_k coeffs[k-1] X^k (section 4).

    secret: (d,), coeffs: (T-1, d), all in F_q. Returns (len(xs), d). Horner's rule, vectorised
    over the points and the coordinates at once."""
    x = np.asarray([xi % q for xi in xs], dtype=np.int64)[:, None]
    acc = np.zeros((len(xs), secret.shape[0]), dtype=np.int64)
    for a in coeffs[::-1]:
        acc = (acc + a[None, :]) % q * x % q
    return (acc + secret[None, :]) % q


def interpolate_at_zero(xs: Sequence[int], values: np.ndarray, q: int) -> np.ndarray:
    """p(0) from (xs[j], values[j]) for a p of degree < len(xs): Lagrange, linear in the values,
    so share-sums give the sum of the pads (section 4). values: (len(xs), d)."""
    lambdas = lagrange_at_zero(list(xs), q)
    acc = np.zeros(values.shape[1], dtype=np.int64)
    for lam, row in zip(lambdas, values, strict=True):
        acc = (acc + row * lam % q) % q
    return acc
