from asfl.reference.field_domain import FieldDomain
from asfl.spec import Params
from asfl.spec.domain import Label, interpolate_at_zero, lagrange_at_zero, polynomial_share, share_point
from hypothesis import given
from hypothesis import strategies as st

P = Params(n_c=8, t_c=1, n_a=4, t_a=1, d=5)
D = FieldDomain(P, seed=3)


@given(st.integers(1, 7), st.integers(0, 10_000), st.data())
def test_any_T_shares_reconstruct_the_secret(T, key, data):
    n = 7
    secret = D.draw(Label("pad", key, 0))
    coeffs = [D.draw(Label("coef", key, 0, k)) for k in range(1, T)]
    shares = {j: polynomial_share(D, secret, coeffs, share_point(j)) for j in range(n)}
    who = data.draw(st.lists(st.integers(0, n - 1), min_size=T, max_size=T, unique=True))
    assert interpolate_at_zero(D, [(share_point(j), shares[j]) for j in who]) == secret


def test_fewer_than_T_shares_do_not_reconstruct():
    secret = D.draw(Label("pad", 1, 0))
    coeffs = [D.draw(Label("coef", 1, 0, k)) for k in range(1, 3)]
    shares = [(share_point(j), polynomial_share(D, secret, coeffs, share_point(j))) for j in range(2)]
    assert interpolate_at_zero(D, shares) != secret


def test_sums_of_shares_interpolate_to_sums_of_pads():
    pads, sums = D.zero(), {j: D.zero() for j in range(4)}
    for c in range(5):
        rho = D.draw(Label("pad", c, 2))
        coeffs = [D.draw(Label("coef", c, 2, k)) for k in range(1, 3)]
        pads = D.add(pads, rho)
        for j in range(4):
            sums[j] = D.add(sums[j], polynomial_share(D, rho, coeffs, share_point(j)))
    assert interpolate_at_zero(D, [(share_point(j), sums[j]) for j in (0, 2, 3)]) == pads


def test_lagrange_coefficients_sum_to_one():
    for xs in ([1, 2, 3], [2, 5, 7, 11], [1]):
        assert sum(lagrange_at_zero(xs, P.q)) % P.q == 1


def test_draws_are_keyed_and_deterministic():
    assert D.draw(Label("pad", 1, 0)) == FieldDomain(P, seed=3).draw(Label("pad", 1, 0))
    assert D.draw(Label("pad", 1, 0)) != D.draw(Label("pad", 1, 1))
    assert D.draw(Label("pad", 1, 0)) != FieldDomain(P, seed=4).draw(Label("pad", 1, 0))
