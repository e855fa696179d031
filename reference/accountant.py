"""Privacy accounting for the releases of PROTOCOL.md ("Privacy accounting", I2, P6, P7).

A release of a client's data is a Gaussian mechanism with L2 sensitivity C and noise sigma = z*C
(P7: every released sum carries at least sigma^2). p releases compose, exactly, to one Gaussian
mechanism with noise multiplier z / sqrt(p) (the privacy-loss distribution of a Gaussian is
Gaussian, and compositions add means and variances). Its (epsilon, delta) curve has a closed form,
the analytic Gaussian mechanism (Balle and Wang, ICML 2018, Theorem 8), with s = z / sqrt(p):

    delta(eps) = Phi(-eps*s + 1/(2s)) - e^eps * Phi(-eps*s - 1/(2s))

`exact_epsilon` inverts it by bisection: that is the exact value for these releases. Beside it,
`rdp_epsilon` is the Renyi-DP bound (Mironov 2017: order-alpha RDP of a release is alpha/(2 z^2),
composed additively) converted with the conversion dp_accounting uses (Canonne, Kamath, Steinke
2020, Prop. 12; Asoodeh et al. 2020), minimised over the orders. Both are cross-checked against
Google's dp_accounting in the tests. The curves are the add-or-remove-one adjacency of a
client's whole update; no subsampling amplification is claimed.

Written here rather than called from dp_accounting at run time because the closed form is
exact and four lines, while dp_accounting's PLD accountant discretises (its error is what the
cross-check bounds) and would be a run-time dependency of the reference.
"""

from __future__ import annotations

import math

import numpy as np

#: dp_accounting's default orders plus a finer grid: the bound is a minimum over these.
RDP_ORDERS: tuple[float, ...] = tuple(
    sorted(
        set(
            [1 + x / 10.0 for x in range(1, 100)]
            + list(range(11, 64))
            + [128, 256, 512, 1024]
            + [1 + x / 100.0 for x in range(2, 1000)]
        )
    )
)


def _check(z: float, releases: int, delta: float) -> None:
    if not z > 0:
        raise ValueError(f"noise multiplier z must be > 0, got {z}")
    if releases < 0:
        raise ValueError(f"releases must be >= 0, got {releases}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")


def gaussian_delta(eps: float, s: float) -> float:
    """delta(eps) of one Gaussian mechanism with noise multiplier s (Balle and Wang 2018)."""
    from scipy.special import log_ndtr, ndtr  # scipy only when an epsilon is computed (start-up)

    a = ndtr(-eps * s + 1 / (2 * s))
    b = math.exp(eps + float(log_ndtr(-eps * s - 1 / (2 * s))))
    return max(0.0, float(a) - b)


def exact_epsilon(z: float, releases: int, delta: float) -> float:
    """The exact epsilon of `releases` Gaussian releases with multiplier z, at `delta`."""
    _check(z, releases, delta)
    if releases == 0:
        return 0.0
    s = z / math.sqrt(releases)
    if gaussian_delta(0.0, s) <= delta:
        return 0.0
    hi = 1.0
    while gaussian_delta(hi, s) > delta:
        hi *= 2
    from scipy.optimize import brentq

    return float(brentq(lambda e: gaussian_delta(e, s) - delta, 0.0, hi, xtol=1e-12, rtol=1e-12))


def rdp_epsilon(z: float, releases: int, delta: float) -> float:
    """The RDP upper bound on epsilon for the same releases (orders `RDP_ORDERS`)."""
    _check(z, releases, delta)
    if releases == 0:
        return 0.0
    a = np.asarray(RDP_ORDERS)
    rdp = releases * a / (2 * z * z)
    eps = rdp + np.log1p(-1 / a) - np.log(delta * a) / (a - 1)
    return float(max(0.0, eps.min()))


def calibrate_z(epsilon: float, delta: float, releases: int) -> float:
    """The smallest noise multiplier z whose `releases` releases stay within (epsilon, delta)."""
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    _check(1.0, releases, delta)
    if releases == 0:
        raise ValueError("no release to calibrate")
    lo, hi = 1e-3, 1.0
    while exact_epsilon(hi, releases, delta) > epsilon:
        hi *= 2
    from scipy.optimize import brentq

    return float(brentq(lambda z: exact_epsilon(z, releases, delta) - epsilon, lo, hi, xtol=1e-10))


def calibrate_quota(epsilon: float, delta: float, z: float) -> int:
    """The largest quota Q whose Q releases with multiplier z stay within (epsilon, delta) (I2)."""
    _check(z, 1, delta)
    if exact_epsilon(z, 1, delta) > epsilon:
        raise ValueError(f"even one release with z={z} exceeds epsilon={epsilon}")
    q = 1
    while exact_epsilon(z, q * 2, delta) <= epsilon:
        q *= 2
    lo, hi = q, q * 2  # eps(lo) <= epsilon < eps(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if exact_epsilon(z, mid, delta) <= epsilon else (lo, mid)
    return lo
