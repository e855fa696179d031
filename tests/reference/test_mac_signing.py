"""A1 by linear MACs (section 4) and Ed25519 certificates (Q6)."""

import numpy as np
from asfl.reference.field import shamir_share
from asfl.reference.mac import (
    MacKeys,
    client_tags,
    client_tags_batch,
    dot_mod,
    inner_products_mod,
    sum_tags,
    verify_share_sum,
)
from asfl.reference.signing import KeyRing
from asfl.spec.messages import certify_payload, endorsement_payload

Q = 2**31 - 1
N_C, N_A, T, D, R = 5, 4, 3, 6, 2


def _run(keys: MacKeys, seed: int = 0, n_clients: int = N_C):
    """Every client shares a pad; returns shares[c][k] and tags[c][k]."""
    rng = np.random.default_rng(seed)
    shares, tags = {}, {}
    for c in range(n_clients):
        sh = shamir_share(rng.integers(0, Q, D), rng.integers(0, Q, (T - 1, D)), range(1, N_A + 1), Q)
        for k in range(N_A):
            shares[c, k] = sh[k]
            tags[c, k] = client_tags(keys, c, R, k, sh[k])
    return shares, tags


def test_honest_share_sums_verify_and_wrong_ones_are_detected_by_every_verifier():
    keys = MacKeys.setup(b"setup", N_C, N_A, Q, D)
    shares, tags = _run(keys)
    members = [0, 2, 3, 4]
    for k in range(N_A):
        sigma = sum(shares[c, k] for c in members) % Q
        tau = sum_tags([tags[c, k] for c in members], Q)
        for v in range(N_A):
            assert verify_share_sum(keys, v, R, k, members, sigma, tau[v])
            bad = sigma.copy()
            bad[1] = (bad[1] + 1) % Q
            assert not verify_share_sum(keys, v, R, k, members, bad, tau[v])
            # a share-sum over another set (a member dropped) is detected too
            assert not verify_share_sum(keys, v, R, k, members[1:], sigma, tau[v])
        # tags are bound to the round: last round's check fails
        assert not verify_share_sum(keys, 0, R - 1, k, members, sigma, tau[0])


def _solve_mod(a: list[list[int]], b: list[int]) -> list[int] | None:
    """Gaussian elimination over F_q (for the adversary): a x = b, a square."""
    n = len(a)
    m = [row[:] + [bi] for row, bi in zip(a, b, strict=True)]
    for col in range(n):
        piv = next((r for r in range(col, n) if m[r][col] % Q), None)
        if piv is None:
            return None
        m[col], m[piv] = m[piv], m[col]
        inv = pow(m[col][col], -1, Q)
        m[col] = [x * inv % Q for x in m[col]]
        for r in range(n):
            if r != col and m[r][col]:
                f = m[r][col]
                m[r] = [(x - f * y) % Q for x, y in zip(m[r], m[col], strict=True)]
    return [m[r][n] for r in range(n)]


def _learn_alpha_and_forge(keys: MacKeys, n_clients: int) -> bool:
    """Byzantine k = 0 learns alpha_v for correct v = 1 from the tags it received (D of them,
    one per client), shifts its share-sum by Delta and its tag-sum by <alpha_guess, Delta>."""
    k, v = 0, 1
    shares, tags = _run(keys, seed=7, n_clients=n_clients)
    members = list(range(n_clients))
    a = [[int(x) for x in shares[c, k]] for c in members[:D]]
    b = [int(tags[c, k][v]) for c in members[:D]]
    guess = _solve_mod(a, b)
    if guess is None:
        return False
    delta = np.arange(1, D + 1, dtype=np.int64)
    sigma = (sum(shares[c, k] for c in members) + delta) % Q
    tau = (int(sum_tags([tags[c, k] for c in members], Q)[v]) + dot_mod(np.array(guess), delta, Q)) % Q
    return verify_share_sum(keys, v, R, k, members, sigma, tau)


def test_byzantine_aggregator_cannot_forge_because_tags_are_masked():
    # D clients: enough equations to solve for alpha_v if the tags were not masked
    keys = MacKeys.setup(b"setup", D, N_A, Q, D)
    assert not _learn_alpha_and_forge(keys, D)

    class Unmasked(MacKeys):  # ablation: without the beta masks the same attack succeeds
        def beta(self, c, k, v, r):
            return 0

    plain = Unmasked(keys.q, keys.d, keys.verifier_keys, keys.pair_keys)
    assert _learn_alpha_and_forge(plain, D)


def test_tags_for_a_byzantine_verifier_are_computable_from_what_the_coalition_may_see():
    """Coalition {k=0, v=2}: the tags k receives for v are <alpha_v, share k holds> + beta known to
    v, so they carry nothing beyond the shares k already holds; tags for a correct verifier differ
    from that computation (they are masked by a beta the coalition lacks)."""
    keys = MacKeys.setup(b"setup", N_C, N_A, Q, D)
    shares, tags = _run(keys)
    k, byz_v, correct_v = 0, 2, 1
    for c in range(N_C):
        simulated = (dot_mod(keys.alpha(byz_v, R), shares[c, k], Q) + keys.beta(c, k, byz_v, R)) % Q
        assert tags[c, k][byz_v] == simulated
    # the tags of one client to k for correct v, over rounds: uniform-looking, not a function of the share
    same_share = shares[0, k]
    seen = {int(client_tags(keys, 0, r, k, same_share)[correct_v]) for r in range(50)}
    assert len(seen) == 50


def test_ed25519_endorsements_and_certificates():
    ring = KeyRing(b"pki", N_A)
    payload = certify_payload(3, 1, frozenset({4, 2, 9}), "abc123")
    sigs = {j: ring.sign(j, payload) for j in range(2)}
    assert ring.verify(0, payload, sigs[0])
    assert ring.verify(0, certify_payload(3, 1, frozenset({9, 4, 2}), "abc123"), sigs[0])  # set order
    assert not ring.verify(1, payload, sigs[0])  # not 1's signature
    assert not ring.verify(0, certify_payload(3, 1, frozenset({4, 2}), "abc123"), sigs[0])
    assert not ring.verify(0, endorsement_payload(3, 1, frozenset({4, 2, 9})), sigs[0])
    assert ring.certificate_valid(payload, sigs, t_a=1)
    assert not ring.certificate_valid(payload, {0: sigs[0]}, t_a=1)
    assert not ring.certificate_valid(payload, {0: sigs[0], 1: sigs[0]}, t_a=1)  # replayed as another signer
    tampered = bytearray(sigs[1])
    tampered[5] ^= 1
    assert not ring.certificate_valid(payload, {0: sigs[0], 1: bytes(tampered)}, t_a=1)


def test_batched_tags_equal_the_per_verifier_loop():
    """The limb-split float64 matrix product is exact: the same tags as n_a^2 integer dot products,
    also across chunk boundaries and at the largest field elements."""
    rng = np.random.default_rng(11)
    d, n_a = 3000, 4
    keys = MacKeys.setup(b"batch", 2, n_a, Q, d)
    shares = rng.integers(0, Q, (n_a, d))
    shares[0] = Q - 1
    batch = client_tags_batch(keys, 1, 5, shares)
    loop = np.stack([client_tags(keys, 1, 5, k, shares[k]) for k in range(n_a)])
    assert np.array_equal(batch, loop)
    a, b = rng.integers(0, Q, (3, d)), rng.integers(0, Q, (2, d))
    expected = [[dot_mod(x, y, Q) for y in b] for x in a]
    assert inner_products_mod(a, b, Q, chunk=1000).tolist() == expected
    assert inner_products_mod(a, b, Q, chunk=7).tolist() == expected
