"""The fast client path (client_upload.py): uint32 arithmetic mod q, the in-place difference table,
reused buffers. Everything is checked equal to the int64 composition it replaces (encode_noisy,
mask_centred, full_shares, uniform_field), and the sampler's buffer to its fresh draws."""

import itertools

import numpy as np
import pytest
from asfl.reference.client_upload import (
    UploadBuffers,
    add_mod,
    client_upload,
    full_shares_u32,
    sub_mod,
)
from asfl.reference.discrete_gaussian import (
    BATCH_SLACK,
    sample_discrete_gaussian,
    sample_rounded_rejection,
)
from asfl.reference.field import EncodingError, encode_noisy, headroom
from asfl.reference.prg import derive_key, keystream_buffer, uniform_field, uniform_field_u32
from asfl.reference.share_compression import full_shares, integer_lagrange, mask_centred

Q = 2**31 - 1


@pytest.mark.parametrize("q", [2, 13, 101])
def test_add_and_sub_mod_on_every_pair_of_a_small_field(q):
    a, b = (np.array(v, dtype=np.uint32) for v in zip(*itertools.product(range(q), repeat=2), strict=True))
    out, tmp = np.empty_like(a), np.empty_like(a)
    assert add_mod(a, b, q, out, tmp).tolist() == ((a.astype(int) + b) % q).tolist()
    assert sub_mod(a, b, q, out, tmp).tolist() == ((a.astype(int) - b) % q).tolist()


def test_add_and_sub_mod_at_the_edges_of_the_mersenne_field():
    edge = [0, 1, 2, Q // 2, Q // 2 + 1, Q - 2, Q - 1]
    a, b = (np.array(v, dtype=np.uint32) for v in zip(*itertools.product(edge, repeat=2), strict=True))
    out, tmp = np.empty_like(a), np.empty_like(a)
    assert add_mod(a, b, Q, out, tmp).tolist() == [
        (x + y) % Q for x, y in zip(a.tolist(), b.tolist(), strict=True)
    ]
    assert sub_mod(a, b, Q, out, tmp).tolist() == [
        (x - y) % Q for x, y in zip(a.tolist(), b.tolist(), strict=True)
    ]
    # out may alias an input
    c = a.copy()
    assert sub_mod(b, c, Q, out=c, tmp=tmp).tolist() == [
        (y - x) % Q for x, y in zip(a.tolist(), b.tolist(), strict=True)
    ]


@pytest.mark.parametrize("threshold,n_a", [(2, 4), (3, 4), (4, 9), (5, 7), (7, 10), (4, 4)])
def test_difference_table_shares_equal_full_shares_and_the_lagrange_combination(threshold, n_a):
    rng = np.random.default_rng(threshold * 10 + n_a)
    rho, seeded = rng.integers(0, Q, 300), rng.integers(0, Q, (threshold - 1, 300))
    rho[:4], seeded[0, :4] = [0, Q - 1, Q - 1, 0], [Q - 1, 0, Q - 1, 0]
    rho32, seeded32 = rho.astype(np.uint32), [s.astype(np.uint32) for s in seeded]
    before = [rho32.copy(), *(s.copy() for s in seeded32)]
    ours = full_shares_u32(rho32, seeded32, n_a, Q)
    assert ours.dtype == np.uint32 and ours.shape == (n_a - threshold + 1, 300)
    np.testing.assert_array_equal(ours, full_shares(rho, list(seeded), n_a, Q))
    basis = [rho, *seeded]
    for row, x in enumerate(range(threshold, n_a + 1)):
        lagrange = sum(
            lam * v.astype(object) for lam, v in zip(integer_lagrange(threshold, x), basis, strict=True)
        )
        assert ours[row].tolist() == list(lagrange % Q)
    for kept, now in zip(before, [rho32, *seeded32], strict=True):  # the public wrapper copies
        np.testing.assert_array_equal(kept, now)


def test_uniform_field_u32_is_uniform_field_in_uint32_with_or_without_a_buffer():
    key = derive_key(b"seed", "pad", 3, 1)
    np.testing.assert_array_equal(uniform_field_u32(key, 50_000, Q), uniform_field(key, 50_000, Q))
    buf = keystream_buffer(50_000)
    ours = uniform_field_u32(key, 50_000, Q, out=buf)
    assert ours.dtype == np.uint32 and np.shares_memory(ours, buf)
    np.testing.assert_array_equal(ours, uniform_field(key, 50_000, Q))
    # q = 7 rejects the word 7 (one in eight): the rare path gives the same accepted words
    np.testing.assert_array_equal(
        uniform_field_u32(key, 5_000, 7, out=keystream_buffer(5_000)), uniform_field(key, 5_000, 7)
    )
    with pytest.raises(ValueError):
        uniform_field_u32(key, 10, Q, out=keystream_buffer(9))


@pytest.mark.parametrize("variance", [12.0, 0.04 * 2**32])
def test_the_samplers_buffer_gives_the_same_draws(variance):
    """Same generator state, same draws, into the caller's buffer (at variance 12 proposals are
    rejected, so the result is a second array, still equal)."""
    size = 40_000
    buf = np.full(size + BATCH_SLACK, np.nan)
    ours = sample_discrete_gaussian(np.random.default_rng(8), variance, size, as_float=True, out=buf)
    fresh = sample_discrete_gaussian(np.random.default_rng(8), variance, size, as_float=True)
    np.testing.assert_array_equal(ours, fresh)
    ints = sample_rounded_rejection(np.random.default_rng(8), variance, size)
    np.testing.assert_array_equal(
        sample_rounded_rejection(np.random.default_rng(8), variance, size, True, buf), ints
    )
    with pytest.raises(ValueError):
        sample_rounded_rejection(np.random.default_rng(8), variance, size, True, np.empty(size))
    with pytest.raises(ValueError):
        sample_discrete_gaussian(np.random.default_rng(8), variance, size, out=buf)  # int draws


def _composed(u, noise, keys, n_a, q, scale, bound):
    """The int64 client: encode_noisy, mask_centred, full_shares over uniform_field."""
    x = encode_noisy(u, scale, noise, bound)
    rho = uniform_field(keys[0], u.size, q)
    return mask_centred(x, rho, q), full_shares(rho, [uniform_field(k, u.size, q) for k in keys[1:]], n_a, q)


@pytest.mark.parametrize("n_a", [4, 7, 10])
def test_client_upload_equals_the_int64_composition(n_a):
    threshold = n_a - (n_a - 1) // 3
    d, scale = 20_000, 2**16
    rng = np.random.default_rng(n_a)
    u = rng.normal(0, 1, d)
    u /= np.linalg.norm(u)
    u[:3] = [1.0, -1.0, 0.5 / scale]  # the extremes, and a tie that rint sends to even
    keys = [derive_key(b"client", "pad", n_a)] + [derive_key(b"seed", k) for k in range(threshold - 1)]
    bound = headroom(Q, 100)
    buffers = UploadBuffers.allocate(d, n_a, threshold)
    for seed in (1, 2):  # twice into the same buffers: nothing left over from the first call
        noise = sample_discrete_gaussian(np.random.default_rng(seed), 0.04 * scale**2, d, as_float=True)
        noise[3:5] = [bound - scale, -bound + scale]  # values at the edge of the range, and negative
        want_y, want_shares = _composed(u, noise, keys, n_a, Q, scale, bound)
        for buf in (None, buffers):
            y, shares = client_upload(u, noise, keys[0], keys[1:], n_a, Q, scale, bound, buffers=buf)
            assert y.dtype == shares.dtype == np.uint32
            np.testing.assert_array_equal(y, want_y)
            np.testing.assert_array_equal(shares, want_shares)


def test_client_upload_in_a_small_field_and_its_range_check():
    q, scale, bound = 101, 100, 50
    keys = [derive_key(b"c", "pad"), derive_key(b"s", 1), derive_key(b"s", 2)]
    u = np.array([-0.3, 0.2, 0.0, 0.49, -0.49, 0.5, -0.5])
    noise = np.array([3.0, -2.0, 0.0, 1.0, -1.0, 0.0, 0.0])  # reaches +-50 = bound exactly
    y, shares = client_upload(u, noise, keys[0], keys[1:], 5, q, scale, bound)
    want_y, want_shares = _composed(u, noise, keys, 5, q, scale, bound)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(shares, want_shares)
    for bad in (np.array([0.51]), np.array([np.nan]), np.array([np.inf])):
        with pytest.raises(EncodingError):
            client_upload(bad, np.zeros(1), keys[0], keys[1:], 5, q, scale, bound)
    with pytest.raises(EncodingError):
        client_upload(np.zeros(1), np.array([-51.0]), keys[0], keys[1:], 5, q, scale, bound)
    with pytest.raises(ValueError):
        client_upload(
            u, noise, keys[0], keys[1:], 5, q, scale, bound, buffers=UploadBuffers.allocate(7, 6, 3)
        )
    with pytest.raises(ValueError):
        client_upload(u, noise, keys[0], keys[1:], 5, 2**31 + 11, scale, bound)  # q beyond uint32 sums
