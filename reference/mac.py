"""Verifiable share-sums (assumption A1, PROTOCOL.md section 4): linear MACs with masked tags.

Setup [ours, as section 4 describes]: every aggregator v holds a secret MAC key and gives it to
every client (never to another aggregator); each pair (client c, aggregator v) shares a PRF key.
In round r, v's MAC vector is alpha_v^r in F_q^d, and beta_{c,k,v}^r is a PRF scalar, both from
AES-CTR (`prg.py`). For the share s_{c,k} it sends to aggregator k, client c attaches one tag per
verifier v:

    tag_{c,k,v} = <alpha_v^r, s_{c,k}> + beta_{c,k,v}^r        (mod q)

Tags add up: aggregator k returns with its share-sum sigma_k = sum_{c in S} s_{c,k} the tag-sums
tau_{k,v} = sum_c tag_{c,k,v}, and verifier v accepts iff
tau_{k,v} = <alpha_v^r, sigma_k> + sum_{c in S} beta_{c,k,v}^r. To pass a share-sum off by
Delta != 0, k must shift tau_{k,v} by <alpha_v^r, Delta>; alpha_v^r is uniform and hidden from
k (each tag k sees is one-time padded by beta), so it succeeds with probability 1/q per correct
verifier. A Byzantine verifier v learns from tags for v only <alpha_v^r, share>, a function of
shares the coalition may already see (the share-sums are broadcast in CLUSTER). Cost: n_a tags per
share, n_a^2 scalars per client, within section 4's O(n_a^2).

Batched (`client_tags_batch`): a client's n_a x n_a tags are one matrix of inner products
<share_k, alpha_v>, computed exactly with float64 matrix products (BLAS): each operand below
2^31 is split into a 15-bit and a 16-bit limb, so each limb product is below 2^32 and a sum of
2^20 of them below 2^52, which float64 holds exactly whatever the summation order; four limb
products per chunk of 2^20 coordinates, recombined and reduced mod q in integers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .prg import derive_key, uniform_field


def dot_mod(a: np.ndarray, b: np.ndarray, q: int) -> int:
    """<a, b> mod q; each reduced product is below 2^31, so the int64 sum is exact for d < 2^32."""
    return int((a * b % q).sum() % q)


@dataclass(frozen=True)
class MacKeys:
    """The MAC key material of one run: `verifier_keys[v]` (v's secret, known to clients) and
    `pair_keys[(c, v)]` (shared by client c and aggregator v)."""

    q: int
    d: int
    verifier_keys: tuple[bytes, ...]
    pair_keys: dict[tuple[int, int], bytes]

    @classmethod
    def setup(cls, seed: bytes, n_c: int, n_a: int, q: int, d: int) -> MacKeys:
        return cls(
            q,
            d,
            tuple(derive_key(seed, "mac-alpha-key", v) for v in range(n_a)),
            {(c, v): derive_key(seed, "mac-prf-key", c, v) for c in range(n_c) for v in range(n_a)},
        )

    @property
    def n_a(self) -> int:
        return len(self.verifier_keys)

    def alpha(self, v: int, r: int) -> np.ndarray:
        """alpha_v^r: verifier v's MAC vector for round r."""
        return _alpha(self.verifier_keys[v], r, self.d, self.q)

    def beta(self, c: int, k: int, v: int, r: int) -> int:
        """beta_{c,k,v}^r: the one-time mask of c's tag for verifier v on its share to k."""
        return _beta(self.pair_keys[(c, v)], r, k, self.q)


# memoised: a run derives the same alpha and beta for every check of a round (pure functions)
@lru_cache(maxsize=256)
def _alpha(key: bytes, r: int, d: int, q: int) -> np.ndarray:
    a = uniform_field(derive_key(key, "alpha", r), d, q)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=65536)
def _beta(key: bytes, r: int, k: int, q: int) -> int:
    return int(uniform_field(derive_key(key, "beta", r, k), 1, q)[0])


#: coordinates per chunk of the limb products: 2^20 sums of products < 2^32 stay below 2^52
_CHUNK = 1 << 20


def _limbs(a: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
    """out[:n] = a >> 16 and out[n:] = a & 0xFFFF as float64 (exact: both below 2^16)."""
    n = a.shape[0]
    np.right_shift(a, 16, out=scratch)
    out[:n] = scratch
    np.bitwise_and(a, 0xFFFF, out=scratch)
    out[n:] = scratch


def limb_matrix(a: np.ndarray) -> np.ndarray:
    """[a >> 16; a & 0xFFFF] as one float64 matrix (2n, d): exact, every entry below 2^16."""
    n, d = a.shape
    out = np.empty((2 * n, d))
    scratch = np.empty((n, d), dtype=np.int64)
    np.right_shift(a, 16, out=scratch)
    out[:n] = scratch
    np.bitwise_and(a, 0xFFFF, out=scratch)
    out[n:] = scratch
    return out


def inner_products_mod(
    a: np.ndarray, b: np.ndarray, q: int, chunk: int = _CHUNK, b_limbs: np.ndarray | None = None
) -> np.ndarray:
    """(a @ b.T) mod q exactly, for a: (n, d) and b: (m, d) with entries in [0, q), q < 2^31.

    One float64 matrix product per chunk of the stacked limbs [a_hi; a_lo] @ [b_hi; b_lo].T gives
    the four limb products at once; they are recombined as hh 2^32 + (hl + lh) 2^16 + ll mod q.
    `b_limbs`: `limb_matrix(b)` if already computed (a verifier key's limbs, derived once a round)."""
    if q >= 2**31:
        raise ValueError("limb products need q < 2^31")
    n, d = a.shape
    m = b.shape[0]
    lb_all = limb_matrix(b) if b_limbs is None else b_limbs
    total = np.zeros((n, m), dtype=np.int64)
    for lo in range(0, d, chunk):
        la = limb_matrix(a[:, lo : lo + chunk])
        p = (la @ lb_all[:, lo : lo + chunk].T).astype(np.int64) % q  # exact integers below 2^52
        hh, hl, lh, ll = p[:n, :m], p[:n, m:], p[n:, :m], p[n:, m:]
        part = (hh * ((1 << 32) % q) % q + (hl + lh) * (1 << 16) % q + ll) % q
        total = (total + part) % q
    return total


@lru_cache(maxsize=4)
def _alpha_matrix(verifier_keys: tuple[bytes, ...], r: int, d: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Every verifier's alpha^r stacked, and its limbs: derived once a round, like alpha itself."""
    alphas = np.stack([_alpha(key, r, d, q) for key in verifier_keys])
    return alphas, limb_matrix(alphas)


def client_tags_batch(keys: MacKeys, c: int, r: int, shares: np.ndarray) -> np.ndarray:
    """Client c's tags on all its round-r shares at once: tags[k, v] = <alpha_v^r, s_k> + beta_{c,k,v}^r."""
    alphas, limbs = _alpha_matrix(keys.verifier_keys, r, keys.d, keys.q)
    tags = inner_products_mod(shares, alphas, keys.q, b_limbs=limbs)
    betas = np.array(
        [[keys.beta(c, k, v, r) for v in range(keys.n_a)] for k in range(shares.shape[0])], dtype=np.int64
    )
    return (tags + betas) % keys.q


def client_tags(keys: MacKeys, c: int, r: int, k: int, share: np.ndarray) -> np.ndarray:
    """Client c's tags (one per verifier v) on its round-r share for aggregator k."""
    return np.array(
        [
            (dot_mod(keys.alpha(v, r), share, keys.q) + keys.beta(c, k, v, r)) % keys.q
            for v in range(keys.n_a)
        ],
        dtype=np.int64,
    )


def sum_tags(tags: Iterable[np.ndarray], q: int) -> np.ndarray:
    """Aggregator k's tag-sums tau_{k,v}: tags add up like the shares they authenticate."""
    total: np.ndarray | None = None
    for t in tags:
        total = t.copy() if total is None else (total + t) % q
    if total is None:
        raise ValueError("no tags to add")
    return total


def verify_share_sum(
    keys: MacKeys, v: int, r: int, k: int, members: Iterable[int], share_sum: np.ndarray, tag_sum: int
) -> bool:
    """Verifier v's A1 check of aggregator k's share-sum over the set `members` of round r."""
    q = keys.q
    expected = dot_mod(keys.alpha(v, r), share_sum, q)
    for c in members:
        expected = (expected + keys.beta(c, k, v, r)) % q
    return expected == int(tag_sum) % q
