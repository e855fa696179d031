"""Cost of the reference protocol's arithmetic (PROTOCOL.md section 4), against the floor.

Client: encode(clip(update)) + discrete Gaussian noise + AES-CTR pad + T-1 AES-CTR coefficient
vectors + n_a Shamir shares (and, separately, the A1 MAC tags). Coordinator: the sum of k masked
values + Lagrange interpolation of T share-sums. Each also as a ratio to one plain numpy vector
add of the same size (the floor any aggregation pays). Upload: bytes a client sends (y, n_a
shares, n_a^2 tags, 4 bytes per field element since q < 2^31) over the model's float32 size.
If Flower installs, its SecAgg+ client masking (quantise, private mask, one pairwise mask per
neighbour, with flwr's own functions) is timed on the same d. Prints figures; asserts nothing.

    python benchmarks/bench_reference.py
"""

from __future__ import annotations

import time

import numpy as np
from asfl.reference.discrete_gaussian import sample_discrete_gaussian
from asfl.reference.field import clip, encode, encode_int, headroom, interpolate_at_zero, shamir_share
from asfl.reference.mac import MacKeys, client_tags
from asfl.reference.prg import derive_key, uniform_field

Q = 2**31 - 1
SCALE = 2**16
N_C = 100
K = 25  # members of a cluster the coordinator sums


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def client_cost(d: int, n_a: int, rng: np.random.Generator) -> None:
    t_a = (n_a - 1) // 3
    T = n_a - t_a
    bound = headroom(Q, N_C)
    u = clip(rng.normal(0, 1, d), 1.0)
    x = (
        encode(u, SCALE, Q, SCALE + 1)
        + encode_int(sample_discrete_gaussian(rng, 0.04 * SCALE**2, d), Q, bound)
    ) % Q
    rho = uniform_field(derive_key(b"s", "pad", 0, 0), d, Q)
    coeffs = np.stack([uniform_field(derive_key(b"s", "coef", 0, k), d, Q) for k in range(1, T)])
    _y = (x + rho) % Q
    shamir_share(rho, coeffs, range(1, n_a + 1), Q)


def coordinator_cost(ys: np.ndarray, sums: np.ndarray, T: int) -> None:
    total = ys[0].copy()
    for y in ys[1:]:
        total += y
        total %= Q
    interpolate_at_zero(list(range(1, T + 1)), sums[:T], Q)


def flower_masking(d: int, neighbours: int, rng: np.random.Generator):
    """Flower's SecAgg+ client stage 2 (flwr/client/mod/secure_aggregation/secaggplus_mod.py)."""
    from flwr.common.secure_aggregation.ndarrays_arithmetic import (
        factor_combine,
        parameters_addition,
        parameters_mod,
        parameters_multiply,
    )
    from flwr.common.secure_aggregation.quantization import quantize
    from flwr.common.secure_aggregation.secaggplus_utils import pseudo_rand_gen

    params = [rng.normal(0, 1, d)]
    keys = [rng.bytes(32) for _ in range(neighbours + 1)]
    mod_range, target_range = 2**30, 2**22

    def run() -> None:
        p = parameters_multiply(params, 1.0)
        qp = factor_combine(1, quantize(p, 3.0, target_range))
        dims = [a.shape for a in qp]
        qp = parameters_addition(qp, pseudo_rand_gen(keys[0], mod_range, dims))
        for key in keys[1:]:
            qp = parameters_addition(qp, pseudo_rand_gen(key, mod_range, dims))
        parameters_mod(qp, mod_range)

    return run


def main() -> None:
    rng = np.random.default_rng(0)
    try:
        import flwr

        flower = f"flwr {flwr.__version__}"
    except Exception as e:  # noqa: BLE001 - any import failure means: no Flower figure
        flower = None
        print(f"Flower (flwr) is not importable ({type(e).__name__}: {e}); no SecAgg+ comparison.")
    print(
        f"q = 2^31-1, scale = 2^16, coordinator sums k = {K} masked values; times are the best of a few runs"
    )
    header = f"{'d':>9} {'n_a':>3} {'T':>2} {'add (ms)':>9} {'client (ms)':>12} {'x add':>7} "
    header += f"{'coord (ms)':>11} {'x add':>7} {'MAC tags (ms)':>14} {'upload/model':>13}"
    if flower:
        header += f" {'SecAgg+ (ms)':>13} {'ours/SecAgg+':>13}"
    print(header)
    for d in (10_000, 100_000, 1_000_000):
        repeats = 5 if d < 1_000_000 else 2
        a, b = rng.integers(0, Q, d), rng.integers(0, Q, d)
        floor = best(lambda a=a, b=b: a + b, repeats * 4)
        for n_a in (4, 7, 10):
            T = n_a - (n_a - 1) // 3
            client = best(lambda d=d, n_a=n_a: client_cost(d, n_a, rng), repeats)
            ys = rng.integers(0, Q, (K, d))
            sums = rng.integers(0, Q, (n_a, d))
            coord = best(lambda ys=ys, sums=sums, T=T: coordinator_cost(ys, sums, T), repeats)
            keys = MacKeys.setup(b"bench", 1, n_a, Q, d)
            share = rng.integers(0, Q, d)
            tags = best(
                lambda keys=keys, share=share, n_a=n_a: [
                    client_tags(keys, 0, 0, k, share) for k in range(n_a)
                ],
                1,
            )
            upload = (d * 4 * (1 + n_a) + 4 * n_a * n_a) / (d * 4)
            row = f"{d:>9} {n_a:>3} {T:>2} {floor * 1e3:>9.3f} {client * 1e3:>12.1f} {client / floor:>7.0f} "
            row += f"{coord * 1e3:>11.1f} {coord / floor:>7.0f} {tags * 1e3:>14.1f} {upload:>13.2f}"
            if flower:
                secagg = best(flower_masking(d, n_a, rng), repeats)
                row += f" {secagg * 1e3:>13.1f} {client / secagg:>13.2f}"
            print(row, flush=True)
    if flower:
        print(
            f"SecAgg+ masking: {flower}, quantise + private mask + n_a pairwise masks "
            "(key agreement excluded)"
        )


if __name__ == "__main__":
    main()
