"""Mutant: a client reuses its round-0 pad and polynomial in every round."""

from asfl.spec.domain import Label, polynomial_share, share_point
from asfl.spec.messages import Sealed

NAME = "pad-reuse"
DESCRIPTION = "a client masks every round with the same pad, so two masked values reveal a difference"


def reused_pad_mask(ctx, c, r, x):
    params, domain = ctx.params, ctx.domain
    rho = domain.draw(Label("pad", c, 0))  # not fresh per round
    coeffs = [domain.draw(Label("coef", c, 0, k)) for k in range(1, params.T)]
    sealed = tuple(
        Sealed(j, polynomial_share(domain, rho, coeffs, share_point(j))) for j in range(params.n_a)
    )
    return domain.add(x, rho), sealed


RULES = {"mask": reused_pad_mask}
