"""Share compression (share_compression.py): T-1 shares from per-aggregator seeds, the rest uploaded.
The coalition's view is distributed exactly as with full Shamir (enumeration over a small field,
and P1/P3 on the symbolic domain); a run certifies the same sets and models; the upload shrinks."""

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from asfl.properties.search.runner import check_property
from asfl.properties.search.runs import SearchSetup
from asfl.reference.experiment import TrainConfig, run_asfl, setup
from asfl.reference.field import interpolate_at_zero, shamir_share
from asfl.reference.share_compression import (
    COMPRESSED,
    all_shares,
    compressed_mask,
    integer_lagrange,
    upload_bytes,
)
from asfl.spec import Params
from asfl.spec.rules import STANDARD

Q = 2**31 - 1


@pytest.mark.parametrize("threshold,n_a", [(3, 4), (5, 7), (7, 10)])
def test_integer_lagrange_extends_any_polynomial(threshold, n_a):
    rnd = random.Random(threshold)
    for _ in range(5):
        coeffs = [rnd.randrange(Q) for _ in range(threshold)]

        def p(x, coeffs=coeffs):
            return sum(a * x**k for k, a in enumerate(coeffs)) % Q

        for x in range(threshold, n_a + 1):
            lams = integer_lagrange(threshold, x)
            assert sum(lam * p(k) for k, lam in enumerate(lams)) % Q == p(x)


@pytest.mark.parametrize("threshold,n_a", [(2, 4), (3, 4), (4, 9), (5, 7), (7, 10)])
def test_finite_difference_shares_equal_the_lagrange_combination(threshold, n_a):
    rng = np.random.default_rng(threshold)
    rho, seeded = rng.integers(0, Q, 50), rng.integers(0, Q, (threshold - 1, 50))
    seeded[0] = Q - 1
    basis = [rho, *seeded]
    expected = [
        sum(lam * v.astype(object) for lam, v in zip(integer_lagrange(threshold, x), basis, strict=True)) % Q
        for x in range(threshold, n_a + 1)
    ]
    assert all_shares(rho, seeded, n_a, Q)[threshold - 1 :].tolist() == [list(e) for e in expected]


def test_compressed_shares_reconstruct_the_pad_from_any_threshold_set():
    rng = np.random.default_rng(0)
    n_a, threshold, d = 7, 5, 1000
    rho = rng.integers(0, Q, d)
    shares = all_shares(rho, rng.integers(0, Q, (threshold - 1, d)), n_a, Q)
    for subset in itertools.combinations(range(n_a), threshold):
        points = [j + 1 for j in subset]
        assert np.array_equal(interpolate_at_zero(points, shares[list(subset)], Q), rho)


def test_coalition_view_is_distributed_exactly_as_with_full_shamir():
    """q = 11, n_a = 4, T = 3: enumerate all q^3 draws of each scheme (ideal PRG: a seed stands for
    the uniform share it expands to). The joint law of (rho, p(1..4)) is the same set, each once;
    for every x and every coalition of fewer than T aggregators, the view (y = x + rho, the
    coalition's shares) has the same law in both schemes, and that law does not depend on x."""
    q, n_a, threshold = 11, 4, 3
    grid = np.array(list(itertools.product(range(q), repeat=threshold)), dtype=np.int64).T  # (3, q^3)
    full = shamir_share(grid[0], grid[1:], range(1, n_a + 1), q)  # coefficients uniform
    comp = all_shares(grid[0], grid[1:], n_a, q)  # values at 1..T-1 uniform
    law_full = Counter(zip(grid[0], *full, strict=True))
    law_comp = Counter(zip(grid[0], *comp, strict=True))
    assert law_full == law_comp and set(law_full.values()) == {1}
    for size in range(1, threshold):
        for coalition in itertools.combinations(range(n_a), size):
            views = []
            for x in (0, 5, 10):
                for shares in (full, comp):
                    y = (x + grid[0]) % q
                    views.append(Counter(zip(y, *shares[list(coalition)], strict=True)))
            assert all(v == views[0] for v in views)


@pytest.mark.parametrize("prop", ["P1", "P3"])
def test_compressed_mask_keeps_mask_correctness_and_confidentiality(prop):
    """The symbolic domain: every certified sum is exactly the members' x (P1), and the adversary's
    view spans no linear function of the data beyond the allowed sums (P3, exact rank check)."""
    outcome = check_property(
        prop, SearchSetup(Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3), COMPRESSED), max_examples=8
    )
    assert outcome.held, f"{outcome.violation}"


def test_p3_catches_a_compression_that_hands_out_the_pad():
    """Ablation: if aggregator 0's 'seed' expanded to the pad itself (what section 4 forbids), the
    same rank check finds the leak, so the check above is not vacuous."""
    from dataclasses import replace

    from asfl.spec.domain import Label
    from asfl.spec.messages import Sealed

    def leaky(ctx, c, r, x):
        y, sealed = compressed_mask(ctx, c, r, x)
        rho = ctx.domain.draw(Label("pad", c, r))
        return y, (Sealed(0, rho), *sealed[1:])

    setup_ = SearchSetup(Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3), replace(COMPRESSED, mask=leaky))
    assert not check_property("P3", setup_, max_examples=8).held


def test_a_run_with_compressed_shares_certifies_the_same_sets_and_models():
    s = setup(TrainConfig(n_c=16, rounds=3, epochs=1, m=3, quota=2))
    standard, compressed = run_asfl(s, STANDARD), run_asfl(s, COMPRESSED)
    assert standard.finished and compressed.finished
    assert compressed.extra["des"].accepted == standard.extra["des"].accepted
    assert compressed.curve == standard.curve


def test_upload_is_n_a_minus_t_plus_2_vectors():
    d = 1_000_000
    assert upload_bytes(d, 4, 3) / (4 * d) == pytest.approx(3.0, abs=1e-4)
    assert upload_bytes(d, 4, 3, tags=False) == 4 * d * 3 + 32 * 2
    assert upload_bytes(d, 10, 7) / (4 * d) == pytest.approx(5.0, abs=1e-3)  # against 11
