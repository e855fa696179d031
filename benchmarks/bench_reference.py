"""Cost of the reference protocol's client and coordinator arithmetic (PROTOCOL.md section 4).

Client (now): exact discrete Gaussian noise (the rounded-Gaussian rejection sampler at these
scales), then `client_upload`: encode(clip(update)) + noise, AES-CTR pad, T-1 AES-CTR seeded
shares, n_a - T + 1 computed shares (share_compression.py's scheme) and y, in uint32 with few
passes over the vector (client_upload.py), in fresh memory as Flower's code works. Reused: the
same with the vectors a client keeps from round to round (`UploadBuffers`; fresh memory costs
page faults). int64: the same client composed from the int64 field functions (encode_noisy,
mask_centred, full_shares), this benchmark's client until client_upload. Client (before): CKS
noise, T-1 coefficient vectors and n_a Horner shares, as this benchmark measured it until share
compression. Coordinator: the sum of
k masked values + Lagrange interpolation of T share-sums. MAC tags: the n_a x n_a A1 tags, batched
(one exact limb-split matrix product) and, before, one dot product per (share, verifier). Each
time also as a ratio to one plain numpy vector add of the same size (the floor any aggregation
pays). Upload: bytes a client sends (y, the full shares, 32-byte seeds, n_a^2 tags; 4 bytes per
field element since q < 2^31) over the model's float32 size, compressed and (before) full.
If Flower installs, its SecAgg+ client masking (quantise, private mask, one pairwise mask per
neighbour, with flwr's own functions) is timed on the same d in the same run. Prints figures;
asserts nothing. Times are CPU time of the process (time.process_time), the best of a few
repeats taken in turns: on a shared machine wall time measures the other jobs, and only ratios
measured in one run mean much.

    python benchmarks/bench_reference.py [--sizes 10000 100000 1000000] [--n-a 4 7 10]
"""

from __future__ import annotations

import argparse
import os
import time

# one BLAS thread (before numpy loads): CPU time then counts work, not threads spinning for a core
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from asfl.reference.client_upload import UploadBuffers, client_upload  # noqa: E402
from asfl.reference.discrete_gaussian import sample_cks, sample_discrete_gaussian  # noqa: E402
from asfl.reference.field import (  # noqa: E402
    clip,
    encode,
    encode_int,
    encode_noisy,
    headroom,
    interpolate_at_zero,
    shamir_share,
)
from asfl.reference.mac import MacKeys, client_tags, client_tags_batch  # noqa: E402
from asfl.reference.prg import derive_key, uniform_field  # noqa: E402
from asfl.reference.share_compression import full_shares, mask_centred, upload_bytes  # noqa: E402

Q = 2**31 - 1
SCALE = 2**16
N_C = 100
K = 25  # members of a cluster the coordinator sums
NOISE_VARIANCE = 0.04 * SCALE**2  # a client's sigma^2/m in fixed point: std 0.2 in model units


def best(fn, repeats: int) -> float:
    """Best CPU time of the process (`time.process_time`, all its threads) over `repeats` calls:
    on a shared machine wall time mostly measures the other jobs' share of the cores."""
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def best_interleaved(fns: dict, repeats: int) -> dict:
    """Best time of each function, run in turns so that each sees the same load (a shared machine)."""
    out = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            out[name] = min(out[name], best(fn, 1))
    return out


def client_now(
    u: np.ndarray, n_a: int, rng: np.random.Generator, buffers: UploadBuffers | None = None
) -> None:
    """The client's arithmetic: the exact sampler, then `client_upload` (uint32, few passes), in fresh
    memory like Flower's, or in `buffers` kept from round to round."""
    threshold = n_a - (n_a - 1) // 3
    out = buffers.noise if buffers is not None else None
    noise = sample_discrete_gaussian(rng, NOISE_VARIANCE, u.size, as_float=True, out=out)
    pad_key = derive_key(b"client", "pad", 0, 0)
    seed_keys = [derive_key(b"seed-for-aggregator", k) for k in range(threshold - 1)]
    client_upload(u, noise, pad_key, seed_keys, n_a, Q, SCALE, headroom(Q, N_C), buffers=buffers)


def client_int64(u: np.ndarray, n_a: int, rng: np.random.Generator) -> None:
    """The same client as composed from the field functions in int64 (this benchmark's client until
    `client_upload`): encode_noisy, mask_centred, full_shares."""
    d = u.size
    threshold = n_a - (n_a - 1) // 3
    noise = sample_discrete_gaussian(rng, NOISE_VARIANCE, d, as_float=True)
    x = encode_noisy(u, SCALE, noise, headroom(Q, N_C))
    rho = uniform_field(derive_key(b"client", "pad", 0, 0), d, Q)
    seeded = [uniform_field(derive_key(b"seed-for-aggregator", k), d, Q) for k in range(threshold - 1)]
    mask_centred(x, rho, Q)
    full_shares(rho, seeded, n_a, Q)


def client_before(u: np.ndarray, n_a: int, rng: np.random.Generator) -> None:
    """The client as measured before: CKS noise, T-1 coefficient vectors, n_a Horner shares."""
    d = u.size
    threshold = n_a - (n_a - 1) // 3
    bound = headroom(Q, N_C)
    x = (encode(u, SCALE, Q, SCALE + 1) + encode_int(sample_cks(rng, NOISE_VARIANCE, d), Q, bound)) % Q
    rho = uniform_field(derive_key(b"s", "pad", 0, 0), d, Q)
    coeffs = np.stack([uniform_field(derive_key(b"s", "coef", 0, k), d, Q) for k in range(1, threshold)])
    _y = (x + rho) % Q
    shamir_share(rho, coeffs, range(1, n_a + 1), Q)


def coordinator_cost(ys: np.ndarray, sums: np.ndarray, threshold: int) -> None:
    total = ys[0].copy()
    for y in ys[1:]:
        total += y
        total %= Q
    interpolate_at_zero(list(range(1, threshold + 1)), sums[:threshold], Q)


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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--n-a", type=int, nargs="+", default=[4, 7, 10])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    try:
        import flwr

        flower = f"flwr {flwr.__version__}"
    except Exception as e:  # noqa: BLE001 - any import failure means: no Flower figure
        flower = None
        print(f"Flower (flwr) is not importable ({type(e).__name__}: {e}); no SecAgg+ comparison.")
    print(f"q = 2^31-1, scale = 2^16, coordinator sums k = {K} masked values; best CPU time of a few runs")
    header = f"{'d':>9} {'n_a':>3} {'T':>2} {'add (ms)':>9} {'client (ms)':>12} {'x add':>6} "
    header += f"{'reused':>7} {'int64':>7} "
    header += f"{'before (ms)':>12} {'x add':>6} {'coord (ms)':>11} {'x add':>6} "
    header += f"{'tags (ms)':>10} {'before':>8} {'upload/model':>13} {'before':>7}"
    if flower:
        header += f" {'SecAgg+ (ms)':>13} {'ours/SecAgg+':>13} {'reused':>7} {'int64':>6} {'before':>7}"
    print(header)
    for d in args.sizes:
        repeats = 5 if d < 1_000_000 else 3
        a, b = rng.integers(0, Q, d), rng.integers(0, Q, d)
        u = clip(rng.normal(0, 1, d), 1.0)
        for n_a in args.n_a:
            threshold = n_a - (n_a - 1) // 3
            buffers = UploadBuffers.allocate(d, n_a, threshold)
            fns = {
                "add": lambda a=a, b=b: a + b,
                "now": lambda u=u, n_a=n_a: client_now(u, n_a, rng),
                "reused": lambda u=u, n_a=n_a, buffers=buffers: client_now(u, n_a, rng, buffers),
                "int64": lambda u=u, n_a=n_a: client_int64(u, n_a, rng),
            }
            if flower:
                fns["secagg"] = flower_masking(d, n_a, rng)
            times = best_interleaved(fns, 2 * repeats)
            floor, now, reused, int64 = times["add"], times["now"], times["reused"], times["int64"]
            before = best(lambda u=u, n_a=n_a: client_before(u, n_a, rng), max(1, repeats - 2))
            ys = rng.integers(0, Q, (K, d))
            sums = rng.integers(0, Q, (n_a, d))
            coord = best(lambda ys=ys, sums=sums, t=threshold: coordinator_cost(ys, sums, t), repeats)
            keys = MacKeys.setup(b"bench", 1, n_a, Q, d)
            shares = rng.integers(0, Q, (n_a, d))
            tags = best(lambda keys=keys, shares=shares: client_tags_batch(keys, 0, 0, shares), repeats)
            tags_before = best(
                lambda keys=keys, shares=shares, n_a=n_a: [
                    client_tags(keys, 0, 0, k, shares[k]) for k in range(n_a)
                ],
                1,
            )
            upload = upload_bytes(d, n_a, threshold) / (d * 4)
            upload_before = (d * 4 * (1 + n_a) + 4 * n_a * n_a) / (d * 4)
            row = f"{d:>9} {n_a:>3} {threshold:>2} {floor * 1e3:>9.3f} "
            row += f"{now * 1e3:>12.1f} {now / floor:>6.0f} {reused * 1e3:>7.1f} {int64 * 1e3:>7.1f} "
            row += f"{before * 1e3:>12.1f} {before / floor:>6.0f} {coord * 1e3:>11.1f} {coord / floor:>6.0f} "
            row += f"{tags * 1e3:>10.1f} {tags_before * 1e3:>8.1f} {upload:>13.2f} {upload_before:>7.2f}"
            if flower:
                secagg = times["secagg"]
                row += f" {secagg * 1e3:>13.1f} {now / secagg:>13.2f} {reused / secagg:>7.2f}"
                row += f" {int64 / secagg:>6.2f} {before / secagg:>7.2f}"
            print(row, flush=True)
    if flower:
        print(
            f"SecAgg+ masking: {flower}, quantise + private mask + n_a pairwise masks "
            "(key agreement excluded)"
        )


if __name__ == "__main__":
    main()
