"""Assignment: clusters and coordinators of a round (PROTOCOL.md section 3).

`seed_r = SHA-256(genesis || r)` with `r` as 8 little-endian bytes; `pi_r` is the swap-or-not
shuffle keyed by `seed_r`, bit for bit Ethereum phase0's `compute_shuffled_index`; cluster `i` of
round `r` holds the clients whose shuffled position falls in `[n_c*i//n_a, n_c*(i+1)//n_a)`, and
its coordinator is aggregator `i`. Anyone recomputes it, so nobody agrees on it and a coordinator
can neither add nor drop members.
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha256

from .params import Params


def compute_shuffled_index(index: int, index_count: int, seed: bytes, rounds: int = 90) -> int:
    """Position of `index` after the swap-or-not shuffle (Ethereum phase0, SHUFFLE_ROUND_COUNT=rounds).

    Each round picks a pivot; `index` is swapped with its mirror `flip` around the pivot iff one
    pseudo-random bit, chosen by the larger of the two, is set. The swap is an involution, so every
    round (and hence the whole shuffle) is a permutation.
    """
    if not 0 <= index < index_count:
        raise ValueError(f"index {index} out of range [0, {index_count})")
    if index_count > 2**40:
        raise ValueError("index_count too large")
    for current_round in range(rounds):
        round_byte = current_round.to_bytes(1, "little")
        pivot = int.from_bytes(sha256(seed + round_byte).digest()[:8], "little") % index_count
        flip = (pivot + index_count - index) % index_count
        position = max(index, flip)
        source = sha256(seed + round_byte + (position // 256).to_bytes(4, "little")).digest()
        byte = source[(position % 256) // 8]
        bit = (byte >> (position % 8)) % 2
        index = flip if bit else index
    return index


def round_seed(genesis: bytes, r: int) -> bytes:
    """seed_r = SHA-256(genesis || r), r as 8 little-endian bytes."""
    return sha256(genesis + r.to_bytes(8, "little")).digest()


@lru_cache(maxsize=4096)
def _clusters(n_c: int, n_a: int, genesis: bytes, r: int, rounds: int) -> tuple[frozenset[int], ...]:
    seed = round_seed(genesis, r)
    members: list[set[int]] = [set() for _ in range(n_a)]
    bounds = [n_c * i // n_a for i in range(n_a + 1)]
    for c in range(n_c):
        position = compute_shuffled_index(c, n_c, seed, rounds)
        # the cluster whose slice [bounds[i], bounds[i+1]) holds the position
        i = next(i for i in range(n_a) if bounds[i] <= position < bounds[i + 1])
        members[i].add(c)
    return tuple(frozenset(s) for s in members)


def clusters(params: Params, r: int) -> tuple[frozenset[int], ...]:
    """S_i^r for every i: the clusters of round r (a pure, memoised function of the params)."""
    return _clusters(params.n_c, params.n_a, params.genesis, r, params.shuffle_rounds)


def cluster_of(params: Params, r: int, c: int) -> int:
    """The cluster (= coordinator aggregator) of client c in round r."""
    for i, members in enumerate(clusters(params, r)):
        if c in members:
            return i
    raise ValueError(f"client {c} is in no cluster of round {r}")


def coordinator(i: int) -> int:
    """The coordinator of cluster i is aggregator i (section 3)."""
    return i
