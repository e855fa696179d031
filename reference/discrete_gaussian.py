"""The discretised Gaussian noise of PROTOCOL.md section 4: the exact discrete Gaussian N_Z(0, s^2).

Sampler: Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS
2020), Algorithm 3: draw Y from the discrete Laplace of scale t = floor(s) + 1 and accept it with
probability exp(-(|Y| - s^2/t)^2 / (2 s^2)); accepted values follow N_Z(0, s^2) exactly, with pmf
proportional to exp(-y^2 / (2 s^2)). Vectorised here: the discrete Laplace is the difference of
two geometric variables of success probability 1 - exp(-1/t) (numpy's sampler), and the
Bernoulli trials compare a uniform double with a float64 exp. That float rounding (relative
error ~1e-16 in each acceptance probability) is the one departure from the paper's all-rational
version, which costs microseconds per sample in Python and cannot serve d = 10^6 coordinates.
The rejection loop runs on a numpy `Generator` the caller passes: seeded for simulations (a run
is a function of its seed), `secure_generator()` (seeded from the OS's CSPRNG) otherwise.

Large scales (s >= `ROUNDED_MIN_SIGMA`, every client noise in a training run: s = sigma * scale /
sqrt(m) is in the hundreds or thousands) use a second exact sampler, about ten times faster per
coordinate: rejection from the rounded continuous Gaussian. Propose Y = round(X), X ~ N(0, s^2);
its pmf is phi_s(y) h(y) with h(y) = int_{-1/2}^{1/2} exp(-(2yu + u^2)/(2s^2)) du, and
h(y) >= h(0) (h(y) = int exp(-u^2/2s^2) cosh(yu/s^2) du), so accepting Y with probability
a(y) = h(0)/h(y) <= 1 leaves exactly the target pmf, proportional to exp(-y^2/(2s^2)). Since
cosh(yu/s^2) <= cosh(beta), beta = |y|/(2s^2), a(y) >= 1/cosh(beta) >= 1 - beta^2/2: a uniform U
below that bound accepts at once, and only the rare U above it (probability about 1/(8 s^2)) needs
a(y) itself, computed as 1 - a(y) = (h(y) - h(0))/h(y) with h(y) - h(0) = int exp(-u^2/2s^2)
2 sinh^2(yu/(2s^2)) du by quadrature, free of cancellation. Those U are drawn sparsely and exactly
as per-sample uniforms would fall: the number above the batch's bound is binomial, their places
uniform, their values uniform above it. Float64 is again the only departure (the normal proposal
and the quadrature, relative errors about 1e-16 and 1e-13).

[ours] s is in fixed-point units: a client's noise of variance sigma^2/m is N_Z(0, sigma^2 *
scale^2 / m). A sum of m such values is not exactly a discrete Gaussian; the accountant treats a
release as the continuous Gaussian mechanism of variance sigma^2, as the distributed discrete
Gaussian literature does for large s (Kairouz, Liu, Steinke 2021 bound the gap).
"""

from __future__ import annotations

import math
import secrets

import numpy as np
from scipy.integrate import quad

#: from this standard deviation on, `sample_discrete_gaussian` uses the rounded-Gaussian sampler
ROUNDED_MIN_SIGMA = 16.0
#: proposals the rounded-Gaussian sampler draws beyond what it needs, so one batch nearly always does
BATCH_SLACK = 16


def secure_generator() -> np.random.Generator:
    """A numpy Generator seeded with 128 bits from the OS's CSPRNG (`secrets`)."""
    return np.random.default_rng(secrets.randbits(128))


def sample_discrete_gaussian(
    rng: np.random.Generator,
    variance: float,
    size: int,
    as_float: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """`size` independent draws of N_Z(0, variance): the rounded-Gaussian rejection sampler from
    sigma = `ROUNDED_MIN_SIGMA` on, CKS 2020 (Algorithm 3) below; int64, or float64 with `as_float`.
    `out` (with `as_float`): a float64 buffer of at least `size` + `BATCH_SLACK` to draw into, kept
    by a caller from round to round (fresh memory costs page faults); the draws are the same."""
    if variance < 0 or not math.isfinite(variance):
        raise ValueError(f"variance must be finite and >= 0, got {variance}")
    if out is not None and not as_float:
        raise ValueError("out is for as_float draws")
    if variance == 0 or size == 0:
        if out is not None:
            out[:size] = 0.0
            return out[:size]
        return np.zeros(size, dtype=np.float64 if as_float else np.int64)
    sigma = math.sqrt(variance)
    if sigma >= ROUNDED_MIN_SIGMA:
        return sample_rounded_rejection(rng, variance, size, as_float, out=out)
    ints = sample_cks(rng, variance, size)
    if not as_float:
        return ints
    if out is None:
        return ints.astype(np.float64)
    out[:size] = ints
    return out[:size]


def sample_cks(rng: np.random.Generator, variance: float, size: int) -> np.ndarray:
    """CKS 2020, Algorithm 3, vectorised (the module docstring); any variance > 0."""
    sigma = math.sqrt(variance)
    t = math.floor(sigma) + 1
    p = -math.expm1(-1.0 / t)  # 1 - exp(-1/t), success probability of the geometric
    out = np.empty(0, dtype=np.int64)
    while out.size < size:
        n = 2 * (size - out.size) + 16  # acceptance rate is above 1/2 (CKS 2020, section 5)
        y = rng.geometric(p, n).astype(np.int64) - rng.geometric(p, n).astype(np.int64)
        accept = rng.random(n) < np.exp(-((np.abs(y) - variance / t) ** 2) / (2.0 * variance))
        out = np.concatenate([out, y[accept]])
    return out[:size]


def one_minus_acceptance(y: int, sigma: float) -> float:
    """1 - a(y) of the rounded-Gaussian sampler, (h(y) - h(0)) / h(y), computed without cancellation."""
    two_var = 2.0 * sigma * sigma
    w = abs(y) / two_var  # yu/(2 s^2) = w u
    h0 = sigma * math.sqrt(2 * math.pi) * math.erf(1.0 / (2.0 * math.sqrt(2.0) * sigma))
    excess, _ = quad(
        lambda u: math.exp(-u * u / two_var) * 2.0 * math.sinh(w * u) ** 2, -0.5, 0.5, epsabs=0, epsrel=1e-13
    )
    return excess / (h0 + excess)


def sample_rounded_rejection(
    rng: np.random.Generator,
    variance: float,
    size: int,
    as_float: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """`size` draws of N_Z(0, variance) by rejection from the rounded Gaussian (module docstring).
    Exact for any variance; fast when sigma is large (the slow check has probability ~1/(8 sigma^2)).
    `as_float`: the same integers as float64 (exact below 2^53), saving a conversion for a caller
    that adds them to a rounded float vector before one conversion of its own. `out` (with
    `as_float`): a float64 buffer of at least size + `BATCH_SLACK` for the first batch, which is
    then the result unless a proposal was rejected; the same draws as without it."""
    sigma = math.sqrt(variance)
    if out is not None and (not as_float or out.dtype != np.float64 or out.size < size + BATCH_SLACK):
        raise ValueError(f"out must be a float64 buffer of at least size + {BATCH_SLACK} (as_float draws)")
    batches: list[np.ndarray] = []
    need = size
    while need > 0:
        n = need + BATCH_SLACK
        if out is not None and not batches:
            y = out[:n]
            rng.standard_normal(out=y)
        else:
            y = rng.standard_normal(n)
        y *= sigma
        np.rint(y, out=y)
        beta = max(float(y.max()), -float(y.min())) / (2.0 * variance)
        if not as_float:
            y = y.astype(np.int64)
        # U_i >= bound for a uniform random subset of binomial size; each such U_i uniform on [bound, 1)
        bound = 1.0 - min(1.0, beta * beta / 2.0)
        suspicious = rng.binomial(n, 1.0 - bound)
        rejected = []
        if suspicious:
            for i in rng.choice(n, size=suspicious, replace=False):
                u = bound + (1.0 - bound) * rng.random()
                if 1.0 - u <= one_minus_acceptance(int(y[i]), sigma):
                    rejected.append(i)  # U >= a(y)
        if rejected:
            y = np.delete(y, rejected)
        batches.append(y[:need])
        need -= min(need, y.size)
    return batches[0] if len(batches) == 1 else np.concatenate(batches)


def discrete_gaussian_pmf(variance: float, support: np.ndarray) -> np.ndarray:
    """pmf of N_Z(0, variance) on `support` (normalised over |y| <= 40 sigma, beyond is < 1e-300)."""
    sigma = math.sqrt(variance)
    span = np.arange(-math.ceil(40 * sigma) - 1, math.ceil(40 * sigma) + 2)
    norm = np.exp(-(span.astype(np.float64) ** 2) / (2 * variance)).sum()
    return np.exp(-(np.asarray(support, dtype=np.float64) ** 2) / (2 * variance)) / norm
