"""The client's upload of PROTOCOL.md section 4 with compressed shares, in few passes over the vector.

What it computes is exactly what the composition of the reference's functions computes (tested
equal): x = encode(clip(update)) + noise (`field.encode_noisy`, one range check), y = x + rho in F_q
(`share_compression.mask_centred`), and the n_a - T + 1 shares that are uploaded
(`share_compression.full_shares`), rho and the T - 1 seeded shares drawn from AES-CTR
(`prg.uniform_field`). Only the representation differs: field elements are uint32 (q < 2^31, the
4 bytes a wire element takes), where the composition widens every vector to int64, and every
reduction mod q is a compare-free "subtract q, keep the smaller" on unsigned words instead of
numpy's integer division:

- a, b in [0, q): a + b < 2q < 2^32, and (a + b) mod q = min(a + b, a + b - q) in uint32, since
  a + b - q wraps to a value above a + b exactly when a + b < q;
- a - b mod q = min(a - b, a - b + q) in uint32 by the same wrap;
- the computed shares come from the T values rho = p(0), p(1..T-1) by the backward-difference
  table of the degree T-1 polynomial (the (T-1)-th difference is constant): T(T-1)/2 subtractions
  to set it up, then T-1 additions per share, each mod q as above. The same shares as
  `full_shares`' finite-difference recurrence, which needs a multiply and an integer division per
  share.

The noise is the caller's (`discrete_gaussian.sample_discrete_gaussian(..., as_float=True)`, the
exact sampler, unchanged): this module only adds it to the data, so exactness is the sampler's.
Cost at d = 10^6, n_a = 4: `benchmarks/bench_reference.py`, docs/reference.md "Cost".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .discrete_gaussian import BATCH_SLACK
from .field_domain import EncodingError
from .prg import keystream_buffer, uniform_field_u32

#: the largest q the uint32 arithmetic serves: a sum of two elements must stay below 2^32
MAX_Q = 2**31 - 1


def _check_q(q: int) -> None:
    if not 1 < q <= MAX_Q:
        raise ValueError(f"uint32 field arithmetic needs 1 < q <= 2^31 - 1, got {q}")


def add_mod(a: np.ndarray, b: np.ndarray, q: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """out = (a + b) mod q for uint32 a, b in [0, q) (`out` may be a or b; `tmp` is scratch)."""
    np.add(a, b, out=out)
    np.subtract(out, np.uint32(q), out=tmp)  # wraps above out exactly when out < q
    return np.minimum(out, tmp, out=out)


def sub_mod(a: np.ndarray, b: np.ndarray, q: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """out = (a - b) mod q for uint32 a, b in [0, q) (`out` may be a or b; `tmp` is scratch)."""
    np.subtract(a, b, out=out)  # wraps to 2^32 + a - b when a < b
    np.add(out, np.uint32(q), out=tmp)  # then this is a - b + q, below it; else above
    return np.minimum(out, tmp, out=out)


def shares_in_place(
    values: list[np.ndarray], n_a: int, q: int, out: np.ndarray, tmp: np.ndarray
) -> np.ndarray:
    """p(x) for x = T..n_a into `out` (n_a - T + 1, d), from values[k] = p(k), k = 0..T-1, uint32 in
    [0, q), which it CONSUMES (overwrites). In place, ascending i at level j = 1..T-1:
    values[i] = values[i+1] - values[i], which leaves values[T-1-j] = nabla^j p(T-1) =: b_j (the
    (T-1)-th difference is constant for degree T-1). Stepping x by one is b_j += b_{j+1} for
    j = T-2 down to 0, and p(x) = b_0 after the step, written straight into its row of `out`."""
    threshold = len(values)
    rows = n_a - threshold + 1
    if rows <= 0:
        return out
    if threshold == 1:  # a constant polynomial
        out[:] = values[0]
        return out
    for level in range(1, threshold):
        for i in range(threshold - level):
            sub_mod(values[i + 1], values[i], q, out=values[i], tmp=tmp)
    b = values[::-1]  # b[j] = nabla^j p(T-1)
    for row in range(rows):
        for j in range(threshold - 2, 0, -1):
            add_mod(b[j], b[j + 1], q, out=b[j], tmp=tmp)
        add_mod(b[0], b[1], q, out=out[row], tmp=tmp)
        b[0] = out[row]
    return out


def full_shares_u32(rho: np.ndarray, seeded: Sequence[np.ndarray], n_a: int, q: int) -> np.ndarray:
    """p(x) for x = T..n_a from rho = p(0) and seeded[k-1] = p(k), all uint32 in [0, q); (n_a - T + 1, d)
    uint32, the inputs untouched. Equal to `share_compression.full_shares` (tested)."""
    _check_q(q)
    values = [np.array(v, dtype=np.uint32) for v in (rho, *seeded)]  # copies: the kernel consumes them
    out = np.empty((max(0, n_a - len(values) + 1), rho.shape[0]), dtype=np.uint32)
    return shares_in_place(values, n_a, q, out, np.empty(rho.shape[0], dtype=np.uint32))


@dataclass
class UploadBuffers:
    """The vectors `client_upload` works in, allocated once and reused from round to round (d, n_a
    and T are fixed for a run): fresh memory of this size costs the kernel's page faults and zeroing,
    about as much as the arithmetic itself at d = 10^6. `y` and `shares` returned by a call are views
    of these buffers, valid until the next call with the same buffers."""

    noise: np.ndarray  # float64, d + BATCH_SLACK: the sampler's draws (`sample_discrete_gaussian(out=)`)
    value: np.ndarray  # float64, d: round(u * scale) + noise
    y: np.ndarray  # uint32, d
    tmp: np.ndarray  # uint32, d
    streams: list[np.ndarray]  # T keystream buffers (uint8): rho, then the T - 1 seeded shares
    shares: np.ndarray  # uint32, (n_a - T + 1, d)

    @classmethod
    def allocate(cls, d: int, n_a: int, threshold: int) -> UploadBuffers:
        return cls(
            noise=np.empty(d + BATCH_SLACK, dtype=np.float64),
            value=np.empty(d, dtype=np.float64),
            y=np.empty(d, dtype=np.uint32),
            tmp=np.empty(d, dtype=np.uint32),
            streams=[keystream_buffer(d) for _ in range(threshold)],
            shares=np.empty((max(0, n_a - threshold + 1), d), dtype=np.uint32),
        )


def client_upload(
    u: np.ndarray,
    noise: np.ndarray,
    pad_key: bytes,
    seed_keys: Sequence[bytes],
    n_a: int,
    q: int,
    scale: int,
    bound: int,
    buffers: UploadBuffers | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(y, shares): y = round(u * scale) + noise + rho in F_q, and the shares p(T..n_a) of the pad
    whose p(0) = rho is expanded from `pad_key` and p(1..T-1) from `seed_keys` (T = len(seed_keys)
    + 1), all uint32. `noise` holds integers as float64 (the exact sampler's `as_float` output; it
    may be `buffers.noise`) and is not modified. Refuses any |round(u * scale) + noise| > bound
    (`EncodingError`), as `field.encode_noisy` does. `buffers`: reused vectors (`UploadBuffers`),
    else fresh ones; the values are the same."""
    _check_q(q)
    if not 0 <= bound <= q // 2:
        raise ValueError(f"bound must be in [0, q // 2], got {bound}")
    d = u.shape[0]
    threshold = len(seed_keys) + 1
    b = buffers if buffers is not None else UploadBuffers.allocate(d, n_a, threshold)
    rows = max(0, n_a - threshold + 1)
    if b.value.shape[0] != d or len(b.streams) != threshold or b.shares.shape[0] != rows:
        raise ValueError("buffers were allocated for another d, n_a or T")
    v = np.multiply(u, float(scale), out=b.value)
    np.rint(v, out=v)
    v += noise[:d]  # integers below 2^53 add exactly in float64
    # a NaN makes the extremes NaN, an infinity makes one infinite: both fail the comparison
    if not max(float(v.max(initial=0)), -float(v.min(initial=0))) <= bound:
        raise EncodingError(f"value out of the fixed-point range |u*scale + noise| <= {bound}")
    # |v| <= bound <= q/2 < 2^31: exact as int32, whose uint32 view w is v, or 2^32 + v for v < 0.
    # w - (2^32 - q) is then v + q (< w) for v < 0, and wraps above w for 0 <= v < 2^32 - q: so
    # "subtract 2^32 - q, keep the smaller" is v mod q in both cases (2^32 - q = q + 2 at 2^31 - 1)
    np.copyto(b.y.view(np.int32), v, casting="unsafe")
    w = b.y
    np.subtract(w, np.uint32(2**32 - q), out=b.tmp)
    np.minimum(w, b.tmp, out=w)
    rho = uniform_field_u32(pad_key, d, q, out=b.streams[0])
    y = add_mod(w, rho, q, out=w, tmp=b.tmp)
    values = [rho] + [
        uniform_field_u32(k, d, q, out=s) for k, s in zip(seed_keys, b.streams[1:], strict=True)
    ]
    return y, shares_in_place(values, n_a, q, b.shares, b.tmp)
