import hashlib

from asfl.spec import Params
from asfl.spec.assignment import cluster_of, clusters, compute_shuffled_index, round_seed
from hypothesis import given
from hypothesis import strategies as st


def _shuffle_list_reference(count: int, seed: bytes, rounds: int) -> list[int]:
    """An independent whole-list form of swap-or-not (the optimised shuffle of Ethereum clients,
    written from the algorithm's definition): returns the position of every index."""
    pos = list(range(count))
    for rnd in range(rounds):
        rb = bytes([rnd])
        pivot = int.from_bytes(hashlib.sha256(seed + rb).digest()[:8], "little") % count
        new = []
        for index in pos:
            flip = (pivot + count - index) % count
            position = max(index, flip)
            source = hashlib.sha256(seed + rb + (position // 256).to_bytes(4, "little")).digest()
            bit = (source[(position % 256) // 8] >> (position % 8)) & 1
            new.append(flip if bit else index)
        pos = new
    return pos


@given(st.binary(min_size=32, max_size=32), st.integers(1, 300))
def test_shuffle_is_a_permutation(seed, count):
    image = [compute_shuffled_index(i, count, seed, rounds=10) for i in range(count)]
    assert sorted(image) == list(range(count))


def test_shuffle_matches_the_whole_list_form_and_moves_things():
    for r in range(3):
        seed = round_seed(b"asfl-genesis", r)
        for count in (1, 2, 7, 100, 300):
            expected = _shuffle_list_reference(count, seed, 90)
            assert [compute_shuffled_index(i, count, seed) for i in range(count)] == expected
    seed = round_seed(b"asfl-genesis", 0)
    assert [compute_shuffled_index(i, 100, seed) for i in range(100)] != list(range(100))


def test_index_out_of_range_is_refused():
    import pytest

    with pytest.raises(ValueError):
        compute_shuffled_index(5, 5, b"\x00" * 32)


def test_clusters_partition_clients_with_sizes_differing_by_at_most_one():
    for n_c, n_a, t_a in [(8, 4, 1), (100, 10, 3), (13, 4, 1), (7, 7, 2)]:
        p = Params(n_c=n_c, t_c=0, n_a=n_a, t_a=t_a, allow_unsafe=True)
        for r in range(5):
            cs = clusters(p, r)
            assert len(cs) == n_a
            assert sorted(c for s in cs for c in s) == list(range(n_c))
            sizes = [len(s) for s in cs]
            assert max(sizes) - min(sizes) <= 1
            assert all(cluster_of(p, r, c) == i for i, s in enumerate(cs) for c in s)


def test_clusters_are_reshuffled_between_rounds():
    p = Params(n_c=100, t_c=1, n_a=10, t_a=3)
    assert len({clusters(p, r) for r in range(5)}) == 5


def test_pinned_positions_guard_the_keying():
    """Regression pins (byte order of the round, the position block and the pivot): any change to
    the keying changes these. Ethereum's published vectors are not reachable offline; the
    algorithm is transcribed from phase0's `compute_shuffled_index`."""
    seed = round_seed(b"asfl-genesis", 0)
    assert [compute_shuffled_index(i, 100, seed) for i in range(12)] == [
        81,
        35,
        97,
        43,
        78,
        88,
        5,
        28,
        8,
        79,
        64,
        20,
    ]
    assert [compute_shuffled_index(i, 10, bytes(32)) for i in range(10)] == [9, 7, 4, 1, 8, 0, 5, 6, 3, 2]
