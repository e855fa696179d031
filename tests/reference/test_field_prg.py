"""Field arithmetic, checked encoding, vector Shamir sharing and the AES-CTR PRG (section 4)."""

import numpy as np
import pytest
from asfl.reference.field import (
    EncodingError,
    decode,
    encode,
    headroom,
    interpolate_at_zero,
    shamir_share,
)
from asfl.reference.prg import derive_key, uniform_field

Q = 2**31 - 1


def test_encode_decode_roundtrip_and_sum_never_wraps():
    rng = np.random.default_rng(0)
    n_c, scale = 50, 2**16
    bound = headroom(Q, n_c)
    us = rng.uniform(-bound / scale, bound / scale, size=(n_c, 64)) * 0.999
    enc = np.stack([encode(u, scale, Q, bound) for u in us])
    total = enc.sum(axis=0) % Q
    np.testing.assert_allclose(decode(total, scale, Q), np.rint(us * scale).sum(axis=0) / scale)


def test_encode_refuses_overflow_instead_of_wrapping():
    bound = headroom(Q, 10)
    with pytest.raises(EncodingError):
        encode(np.array([0.0, (bound + 1) / 2**16]), 2**16, Q, bound)
    with pytest.raises(EncodingError):
        encode(np.array([np.nan]), 2**16, Q, bound)


def test_shamir_reconstructs_from_any_T_and_sums_of_shares_give_sum_of_pads():
    rng = np.random.default_rng(1)
    n_a, T, d = 7, 5, 33
    pads = rng.integers(0, Q, size=(3, d))
    shares = [shamir_share(p, rng.integers(0, Q, size=(T - 1, d)), range(1, n_a + 1), Q) for p in pads]
    share_sums = sum(shares) % Q
    for pts in ([0, 1, 2, 3, 4], [2, 3, 4, 5, 6], [0, 2, 4, 5, 6]):
        xs = [j + 1 for j in pts]
        np.testing.assert_array_equal(interpolate_at_zero(xs, share_sums[pts], Q), pads.sum(axis=0) % Q)
    # with exactly T share-sums a corrupted one reconstructs another pad sum, silently: why A1 is needed
    wrong = interpolate_at_zero([1, 2, 3, 4, 5], np.vstack([share_sums[:4], (share_sums[4] + 1) % Q]), Q)
    assert not np.array_equal(wrong, pads.sum(axis=0) % Q)


def test_prg_is_deterministic_keyed_and_uniform_over_the_field():
    k1, k2 = derive_key(b"seed", "pad", 1, 0), derive_key(b"seed", "pad", 2, 0)
    a, b = uniform_field(k1, 200_000, Q), uniform_field(k1, 200_000, Q)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:100], uniform_field(k2, 100, Q))
    assert a.min() >= 0 and a.max() < Q
    # chi-square over 64 equal bins of [0, q)
    counts = np.bincount((a * 64 // Q).astype(np.int64), minlength=64)
    chi2 = ((counts - a.size / 64) ** 2 / (a.size / 64)).sum()
    assert chi2 < 120  # 63 dof: p ~ 1e-5
    # a small prime: every value occurs, none favoured (rejection, not reduction)
    small = uniform_field(k1, 70_000, 7)
    counts = np.bincount(small, minlength=7)
    assert counts.min() > 9_500 and counts.max() < 10_500


def test_encode_noisy_is_encode_plus_noise_with_one_range_check():
    from asfl.reference.discrete_gaussian import sample_discrete_gaussian
    from asfl.reference.field import EncodingError, encode_centred, encode_noisy

    rng = np.random.default_rng(2)
    u = rng.normal(0, 0.1, 500)
    noise = sample_discrete_gaussian(np.random.default_rng(3), 1e6, 500, as_float=True)
    ints = sample_discrete_gaussian(np.random.default_rng(3), 1e6, 500)
    assert np.array_equal(noise, ints)
    bound = 2**20
    assert np.array_equal(encode_noisy(u, 2**16, noise, bound), encode_centred(u, 2**16, bound) + ints)
    with pytest.raises(EncodingError):
        encode_noisy(u, 2**16, noise + bound, bound)
    with pytest.raises(EncodingError):
        encode_noisy(np.array([np.nan]), 2**16, np.zeros(1), bound)
