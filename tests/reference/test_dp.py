"""Discrete Gaussian sampler and the privacy accountant, cross-checked against dp_accounting."""

import math

import numpy as np
import pytest
from asfl.reference.accountant import (
    calibrate_quota,
    calibrate_z,
    exact_epsilon,
    gaussian_delta,
    rdp_epsilon,
)
from asfl.reference.discrete_gaussian import (
    ROUNDED_MIN_SIGMA,
    discrete_gaussian_pmf,
    one_minus_acceptance,
    sample_discrete_gaussian,
    sample_rounded_rejection,
)
from dp_accounting import dp_event, pld, rdp
from scipy import stats


@pytest.mark.parametrize("variance", [0.3, 2.0, 25.0, 4.0e6])
def test_discrete_gaussian_moments(variance):
    x = sample_discrete_gaussian(np.random.default_rng(3), variance, 200_000)
    assert x.dtype == np.int64
    se = math.sqrt(variance / x.size)
    assert abs(x.mean()) < 5 * se
    # variance of N_Z(0, s^2) is below s^2, and within 1e-3 of it once s >= 1 (CKS 2020, Cor. 9)
    true_var = float(
        (discrete_gaussian_pmf(variance, np.arange(-400, 401)) * np.arange(-400, 401) ** 2).sum()
    )
    target = true_var if variance < 100 else variance
    assert abs(x.var() / target - 1) < 0.02


@pytest.mark.parametrize("variance", [0.5, 3.0, 12.0])
def test_discrete_gaussian_chi_square_against_pmf(variance):
    x = sample_discrete_gaussian(np.random.default_rng(4), variance, 100_000)
    assert _chi_square_pvalue(x, variance) > 1e-4
    # and a rounded continuous Gaussian is a different law: the test can tell them apart
    rounded = np.rint(np.random.default_rng(5).normal(0, math.sqrt(variance), 100_000)).astype(int)
    if variance < 1:
        assert _chi_square_pvalue(rounded, variance) < 1e-4


def _chi_square_pvalue(x: np.ndarray, variance: float) -> float:
    cut = int(3 * math.sqrt(variance)) + 1
    support = np.arange(-cut, cut + 1)
    pmf = discrete_gaussian_pmf(variance, support)
    expected = np.append(pmf, 1 - pmf.sum()) * x.size
    observed = np.append([(x == v).sum() for v in support], (np.abs(x) > cut).sum())
    keep = expected > 5
    observed, expected = observed[keep], expected[keep]
    return stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue


@pytest.mark.parametrize("variance", [0.5, 12.0])
def test_rounded_gaussian_rejection_sampler_is_the_discrete_gaussian(variance):
    """The fast sampler's rejection step is what makes it exact: at variance 0.5 it passes the
    chi-square test the plain rounded Gaussian fails (above), at 12 it exercises the sparse check."""
    x = sample_rounded_rejection(np.random.default_rng(6), variance, 30_000)
    assert x.size == 30_000 and x.dtype == np.int64
    assert _chi_square_pvalue(x, variance) > 1e-4


def test_rounded_sampler_acceptance_matches_a_direct_quadrature():
    """1 - a(y) = 1 - h(0)/h(y), h(y) = int_{-1/2}^{1/2} exp(-(2yu + u^2)/(2s^2)) du, where the
    direct form does not cancel badly (s small, |y| large)."""
    from scipy.integrate import quad

    for sigma, y in ((2.0, 10), (3.0, -7), (ROUNDED_MIN_SIGMA, 80)):

        def h(y, sigma=sigma):
            return quad(lambda u: math.exp(-(2 * y * u + u * u) / (2 * sigma**2)), -0.5, 0.5)[0]

        assert one_minus_acceptance(y, sigma) == pytest.approx(1 - h(0) / h(y), rel=1e-9)
    assert one_minus_acceptance(0, 5.0) == 0.0


def test_gaussian_delta_closed_form_matches_definition_by_integration():
    # delta(eps) = E[max(0, 1 - e^(eps - L))] under P, L ~ N(mu, 2 mu), mu = 1/(2 s^2)
    s, eps = 1.3, 0.7
    mu = 1 / (2 * s * s)
    grid = np.linspace(mu - 12 * math.sqrt(2 * mu), mu + 12 * math.sqrt(2 * mu), 400_001)
    dens = stats.norm.pdf(grid, mu, math.sqrt(2 * mu))
    integrand = np.maximum(0, 1 - np.exp(eps - grid)) * dens
    assert gaussian_delta(eps, s) == pytest.approx(np.trapezoid(integrand, grid), rel=1e-6)


SETTINGS = [(z, p, d) for z in (0.6, 1.0, 2.5, 8.0) for p in (1, 4, 30) for d in (1e-5, 1e-3)]
DELTAS = (1e-6, 1e-5, 1e-3, 1e-2)


@pytest.mark.parametrize("z,p", [(0.7, 1), (0.7, 5), (1.0, 1), (1.0, 12), (2.5, 4), (2.5, 40), (8.0, 100)])
def test_exact_epsilon_agrees_with_dp_accounting_pld(z, p):
    acc = pld.PLDAccountant(value_discretization_interval=1e-3)
    acc.compose(dp_event.GaussianDpEvent(z), p)
    for delta in DELTAS:
        theirs = acc.get_epsilon(delta)
        ours = exact_epsilon(z, p, delta)
        # the PLD accountant is pessimistic, by at most its discretisation error
        assert ours <= theirs + 1e-6
        assert theirs - ours < 5e-3 * max(1.0, ours)


@pytest.mark.parametrize("z,p,delta", SETTINGS)
def test_rdp_bound_agrees_with_dp_accounting_rdp_and_bounds_the_exact_value(z, p, delta):
    acc = rdp.RdpAccountant()
    acc.compose(dp_event.GaussianDpEvent(z), p)
    theirs = acc.get_epsilon(delta)
    ours = rdp_epsilon(z, p, delta)
    assert ours <= theirs + 1e-9  # our orders include theirs
    assert ours >= theirs * 0.97 - 1e-9
    assert exact_epsilon(z, p, delta) <= ours + 1e-9


def test_composition_is_one_gaussian_with_multiplier_z_over_sqrt_p():
    assert exact_epsilon(2.0, 16, 1e-5) == pytest.approx(exact_epsilon(0.5, 1, 1e-5), rel=1e-9)
    eps = [exact_epsilon(1.0, p, 1e-5) for p in range(1, 10)]
    assert all(a < b for a, b in zip(eps, eps[1:], strict=False))


def test_calibration_hits_the_target():
    z = calibrate_z(2.0, 1e-5, 10)
    assert exact_epsilon(z, 10, 1e-5) == pytest.approx(2.0, abs=1e-6)
    assert exact_epsilon(z * 0.99, 10, 1e-5) > 2.0
    q = calibrate_quota(3.0, 1e-5, 4.0)
    assert exact_epsilon(4.0, q, 1e-5) <= 3.0 < exact_epsilon(4.0, q + 1, 1e-5)
    with pytest.raises(ValueError):
        calibrate_quota(0.01, 1e-5, 0.5)
