"""The symbolic domain: exact forms, the pads cancel (P1), and the echelon view reveals exactly the
pure functions of the secrets (P3)."""

from __future__ import annotations

from asfl.properties.domains.symbolic import Echelon, Form, SymbolicDomain, noise_variance, secret_part
from asfl.properties.traces import codec
from asfl.spec import Params
from asfl.spec.domain import Label, interpolate_at_zero, polynomial_share, share_point

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1)


def test_forms_are_exact_and_canonical() -> None:
    d = SymbolicDomain(PARAMS)
    a = d.draw(Label("pad", 1, 0))
    x = d.add(d.data(1, 0, ()), d.noise(1, 0, 0.5))
    assert d.sub(d.add(x, a), a) == x
    assert d.scale(x, PARAMS.q) == d.zero()
    assert hash(d.add(a, x)) == hash(d.add(x, a))
    assert codec.decode(codec.encode(d.add(a, x))) == d.add(a, x)
    assert noise_variance(d.add(x, d.noise(2, 0, 0.5))) == 1.0
    assert secret_part(d.add(x, a)) == x


def test_interpolating_T_share_sums_cancels_the_pads() -> None:
    """P1 at its core: sum(y) - interpolate(sum of shares) = sum(x) exactly."""
    d, T = SymbolicDomain(PARAMS), PARAMS.T
    xs, ys, shares = [], [], {j: d.zero() for j in range(PARAMS.n_a)}
    for c in (0, 5):
        x = d.data(c, 0, ())
        rho = d.draw(Label("pad", c, 0))
        coeffs = [d.draw(Label("coef", c, 0, k)) for k in range(1, T)]
        xs.append(x)
        ys.append(d.add(x, rho))
        for j in shares:
            shares[j] = d.add(shares[j], polynomial_share(d, rho, coeffs, share_point(j)))
    pads = interpolate_at_zero(d, [(share_point(j), shares[j]) for j in (0, 2, 3)])
    assert d.sub(d.add(*ys), pads) == d.add(*xs)


def test_echelon_reveals_only_pure_functions_of_secrets() -> None:
    q = PARAMS.q
    e = Echelon(q)
    x1, x2 = Form.symbol(("data", 1, 0)), Form.symbol(("data", 2, 0))
    p1, p2 = Form.symbol(("pad", 1, 0)), Form.symbol(("pad", 2, 0))
    d = SymbolicDomain(PARAMS)
    e.add(d.add(x1, p1))
    e.add(d.add(x2, p2))
    assert e.revealed() == []  # masked values alone reveal nothing
    e.add(d.add(p1, p2))  # the pad sum
    assert [Form(r.items()) for r in e.revealed()] == [d.add(x1, x2)]
    assert not e.add(d.add(x1, x2))  # already in the span
    e.add(Form.symbol(("adv", 3)))  # the adversary's own values reveal nothing
    assert len(e.revealed()) == 1
