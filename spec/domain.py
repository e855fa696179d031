"""The value-domain interface the transitions are written against (ARCHITECTURE.md).

A domain gives the field operations the protocol needs (add, subtract, scale by a public
constant), the values a party "draws" (keyed by a `Label`, so a run is a function of its seed and
its schedule), the client's secret inputs, and the model arithmetic. Two domains implement it:
the symbolic one in `asfl.properties` (linear forms over named secrets) and the concrete one in
`asfl.reference` (numpy vectors in F_q). Shamir sharing and Lagrange interpolation are written
once here, on top of the interface, because they only add and scale.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple, Protocol

Value = Any  # a vector of F_q^d in the domain's representation
Model = Any  # a model w in the domain's representation


class Label(NamedTuple):
    """What a party draws: (kind, party, round, index). The domain's seed completes the key.

    kinds: "pad" (rho), "coef" (a_k of the sharing polynomial), "data" and "noise" (a client's
    secret inputs). `round` is the round of the contribution; carried-over contributions get fresh
    pads (I3 re-masks), the data and noise stay those of the model they were trained on.
    """

    kind: str
    party: int
    round: int
    index: int = 0


class Domain(Protocol):
    q: int

    def zero(self) -> Value: ...
    def add(self, a: Value, b: Value) -> Value: ...
    def sub(self, a: Value, b: Value) -> Value: ...
    def scale(self, a: Value, k: int) -> Value: ...
    def linear_combination(self, parts: Sequence[tuple[Value, int]]) -> Value:
        """sum_k c_k * v_k over `parts` = ((v_k, c_k), ...), public coefficients c_k (any int, taken
        mod q): the zero value when `parts` is empty. Equal to folding `add` and `scale`; one call,
        so a domain can do it in one pass (sums, interpolation and share evaluation are all this)."""
        ...

    def draw(self, label: Label) -> Value:
        """A uniform element of F_q^d, a deterministic function of (domain seed, label)."""
        ...

    def data(self, c: int, r_model: int, model: Model) -> Value:
        """Client c's encoded, clipped update trained on the model of round r_model."""
        ...

    def noise(self, c: int, r_model: int, variance: float) -> Value:
        """Client c's discretised Gaussian noise of the given variance (sigma^2/m by the standard
        rule) for that update."""
        ...

    def equal(self, a: Value, b: Value) -> bool: ...
    def digest(self, a: Value) -> Hashable:
        """A hashable stand-in for a value: what signatures and certificates name (hash(agg))."""
        ...

    def genesis_model(self) -> Model: ...
    def apply_update(self, w: Model, total: Value, count: int) -> Model:
        """w + eta * decode(total) / count (the inter-cluster step)."""
        ...

    def model_digest(self, w: Model) -> Hashable: ...


def polynomial_share(domain: Domain, secret: Value, coeffs: Sequence[Value], x: int) -> Value:
    """p(x) for p(X) = secret + a_1 X + ... + a_{T-1} X^{T-1} (public x: a linear combination of
    the secret and the coefficients with the powers of x)."""
    q = domain.q
    return domain.linear_combination([(secret, 1), *((a, pow(x, k, q)) for k, a in enumerate(coeffs, 1))])


def sum_values(domain: Domain, values: Sequence[Value]) -> Value:
    """The sum of `values` (the zero value for none)."""
    return domain.linear_combination([(v, 1) for v in values])


def lagrange_at_zero(xs: Sequence[int], q: int) -> list[int]:
    """Coefficients l_j with p(0) = sum_j l_j p(x_j) for any p of degree < len(xs), in F_q."""
    if len(set(xs)) != len(xs):
        raise ValueError("interpolation points must be distinct")
    coeffs = []
    for j, xj in enumerate(xs):
        num, den = 1, 1
        for k, xk in enumerate(xs):
            if k != j:
                num = num * xk % q
                den = den * (xk - xj) % q
        coeffs.append(num * pow(den, -1, q) % q)
    return coeffs


def interpolate_at_zero(domain: Domain, points: Sequence[tuple[int, Value]]) -> Value:
    """Lagrange interpolation at 0 from (x, p(x)) pairs: linear, so sums of shares give sums of pads."""
    lambdas = lagrange_at_zero([x for x, _ in points], domain.q)
    return domain.linear_combination([(v, lam) for lam, (_, v) in zip(lambdas, points, strict=True)])


def share_point(j: int) -> int:
    """Aggregator j holds p(j+1): evaluation points are 1..n_a, never 0 (the secret)."""
    return j + 1
