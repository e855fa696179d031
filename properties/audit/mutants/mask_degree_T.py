"""Mutant: the sharing polynomial has degree T (one coefficient too many)."""

from asfl.spec.domain import Label, polynomial_share, share_point
from asfl.spec.messages import Sealed

NAME = "mask-degree-T"
DESCRIPTION = "pads are shared with a polynomial of degree T, so T share-sums no longer cancel the pads"


def degree_T_mask(ctx, c, r, x):
    params, domain = ctx.params, ctx.domain
    rho = domain.draw(Label("pad", c, r))
    coeffs = [domain.draw(Label("coef", c, r, k)) for k in range(1, params.T + 1)]
    sealed = tuple(
        Sealed(j, polynomial_share(domain, rho, coeffs, share_point(j))) for j in range(params.n_a)
    )
    return domain.add(x, rho), sealed


RULES = {"mask": degree_T_mask}
