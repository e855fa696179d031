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

[ours] s is in fixed-point units: a client's noise of variance sigma^2/m is N_Z(0, sigma^2 *
scale^2 / m). A sum of m such values is not exactly a discrete Gaussian; the accountant treats a
release as the continuous Gaussian mechanism of variance sigma^2, as the distributed discrete
Gaussian literature does for large s (Kairouz, Liu, Steinke 2021 bound the gap).
"""

from __future__ import annotations

import math
import secrets

import numpy as np


def secure_generator() -> np.random.Generator:
    """A numpy Generator seeded with 128 bits from the OS's CSPRNG (`secrets`)."""
    return np.random.default_rng(secrets.randbits(128))


def sample_discrete_gaussian(rng: np.random.Generator, variance: float, size: int) -> np.ndarray:
    """`size` independent draws of N_Z(0, variance) (CKS 2020, Algorithm 3, vectorised)."""
    if variance < 0 or not math.isfinite(variance):
        raise ValueError(f"variance must be finite and >= 0, got {variance}")
    if variance == 0 or size == 0:
        return np.zeros(size, dtype=np.int64)
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


def discrete_gaussian_pmf(variance: float, support: np.ndarray) -> np.ndarray:
    """pmf of N_Z(0, variance) on `support` (normalised over |y| <= 40 sigma, beyond is < 1e-300)."""
    sigma = math.sqrt(variance)
    span = np.arange(-math.ceil(40 * sigma) - 1, math.ceil(40 * sigma) + 2)
    norm = np.exp(-(span.astype(np.float64) ** 2) / (2 * variance)).sum()
    return np.exp(-(np.asarray(support, dtype=np.float64) ** 2) / (2 * variance)) / norm
