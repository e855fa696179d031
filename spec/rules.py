"""The rule table: every decision of the protocol that a variant may replace, by name.

The transitions of `client.py` and `aggregator.py` never call a rule directly; they look it up in
the `Rules` table of their `Context`. The protocol of PROTOCOL.md is `STANDARD`; a changed protocol
(a user's variant, a mutant of the catalogue) is a new table,
`dataclasses.replace(STANDARD, name="mine", endorse_problem=my_rule)`, never a monkey-patch.
`RULE_SIGNATURES` says what each rule is given, so a variant's function can be checked before use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from . import assignment, inclusion
from .certificates import standard_model_problem
from .checks import standard_endorse_problem, standard_share_sum_verifies
from .context import Context
from .domain import Label, Value, polynomial_share, share_point
from .messages import Contrib, Sealed, ShareSum
from .params import Params


def standard_fix_set(params: Params, held: Mapping[int, Contrib]) -> frozenset[int] | None:
    """Coordinator (I4): once m members contributed, fix S = every member held."""
    assert params.m is not None
    return frozenset(held) if len(held) >= params.m else None


def standard_cluster_ready(params: Params, sums: Mapping[int, ShareSum]) -> bool:
    """Coordinator: T verified share-sums suffice; it never waits for more (Q3, P9)."""
    assert params.T is not None
    return len(sums) >= params.T


def standard_reveal_quorum(params: Params) -> int:
    """Endorse, then reveal (finding F1): an aggregator releases its share-sum for (r, i, S) only when
    shown T endorsements of S; by Q2 only one set of (r, i) can have them. 0 = release at once."""
    assert params.T is not None
    return params.T


def standard_relay_cluster(params: Params) -> bool:
    """Relay (finding F3): a CLUSTER is accepted from any aggregator and forwarded once, on first
    certification, to every aggregator. False: only from the coordinator, never forwarded."""
    return True


def standard_averaging_quorum(params: Params) -> int:
    """Inter-cluster (P9): average once certified results of n_a - t_a clusters are held (the
    protocol's number, `Params.progress_quorum`: the properties judge by the same one)."""
    return params.progress_quorum


def standard_certificate_size(params: Params) -> int:
    """Q6: t_a + 1 CERTIFY signatures certify a cluster result (the protocol's number,
    `Params.certificate_size`). This rule is what a party under test requires; what is certified
    is judged by the protocol's number alone (`world.holds_certificate`: the properties and the
    simulator), whatever a variant's rule table says."""
    return params.certificate_size


def standard_noise_variance(params: Params) -> float:
    """Section 4: each client adds noise of variance sigma^2/m, so a sum of m carries sigma^2 (P7)."""
    assert params.m is not None
    return params.sigma**2 / max(params.m, 1)


def standard_mask(ctx: Context, c: int, r: int, x: Value) -> tuple[Value, tuple[Sealed, ...]]:
    """Section 4: y = x + rho and Shamir shares p(j+1) of rho, degree T-1, fresh per round.
    The pad itself is shared, never a seed of it (a seed would let a coordinator unmask one client)."""
    params, domain = ctx.params, ctx.domain
    assert params.T is not None
    rho = domain.draw(Label("pad", c, r))
    coeffs = [domain.draw(Label("coef", c, r, k)) for k in range(1, params.T)]
    sealed = tuple(
        Sealed(j, polynomial_share(domain, rho, coeffs, share_point(j))) for j in range(params.n_a)
    )
    return domain.add(x, rho), sealed


@dataclass(frozen=True)
class Rules:
    """The named rules of the protocol; each default's docstring states the rule."""

    name: str = "asfl"
    clusters: Callable[[Params, int], tuple[frozenset[int], ...]] = assignment.clusters
    i1_may_contribute: Callable[[frozenset[int], int], bool] = inclusion.i1_may_contribute
    i1_coordinator_accepts: Callable[[frozenset[int], int], bool] = inclusion.i1_coordinator_accepts
    i2_releases_data: Callable[[int, int, int, int, int], bool] = inclusion.i2_releases_data
    i2_take_back: Callable[[], bool] = inclusion.i2_take_back
    i3_fresh_enough: Callable[[int, int, int], bool] = inclusion.i3_fresh_enough
    i3_carry_round: Callable[[frozenset[int], int, int, int, int], int | None] = inclusion.i3_carry_round
    i3_noise_carry: Callable[[bool, bool, bool], str] = inclusion.i3_noise_carry
    fix_set: Callable[[Params, Mapping[int, Contrib]], frozenset[int] | None] = standard_fix_set
    endorse_problem: Callable[..., str | None] = standard_endorse_problem
    cluster_ready: Callable[[Params, Mapping[int, ShareSum]], bool] = standard_cluster_ready
    reveal_quorum: Callable[[Params], int] = standard_reveal_quorum
    relay_cluster: Callable[[Params], bool] = standard_relay_cluster
    share_sum_verifies: Callable[..., bool] = standard_share_sum_verifies
    certificate_size: Callable[[Params], int] = standard_certificate_size
    averaging_quorum: Callable[[Params], int] = standard_averaging_quorum
    model_problem: Callable[..., str | None] = standard_model_problem
    mask: Callable[[Context, int, int, Value], tuple[Value, tuple[Sealed, ...]]] = standard_mask
    noise_variance: Callable[[Params], float] = standard_noise_variance

    @classmethod
    def names(cls) -> list[str]:
        """The replaceable rules, in table order."""
        return [f.name for f in fields(cls) if f.name != "name"]

    def replaced(self) -> list[str]:
        """The rules this table replaces (not the standard table's function), in table order."""
        return [n for n in self.names() if getattr(self, n) is not getattr(STANDARD, n)]


#: The parameters each rule is called with, in order (what a variant's function must accept).
RULE_SIGNATURES: dict[str, tuple[str, ...]] = {
    "clusters": ("params", "r"),
    "i1_may_contribute": ("contributed", "r"),
    "i1_coordinator_accepts": ("held", "c"),
    "i2_releases_data": ("released", "quota", "r", "rounds", "c"),
    "i2_take_back": (),
    "i3_fresh_enough": ("r", "r_model", "s_max"),
    "i3_carry_round": ("contributed", "late_round", "r_model", "s_max", "rounds"),
    "i3_noise_carry": ("may_release", "holds_its_model", "trains_for_it"),
    "fix_set": ("params", "held"),
    "endorse_problem": ("ctx", "j", "endorsed", "src", "msg"),
    "cluster_ready": ("params", "sums"),
    "reveal_quorum": ("params",),
    "relay_cluster": ("params",),
    "share_sum_verifies": ("ctx", "contribs", "share_sum"),
    "certificate_size": ("params",),
    "averaging_quorum": ("params",),
    "model_problem": ("ctx", "msg"),
    "mask": ("ctx", "c", "r", "x"),
    "noise_variance": ("params",),
}

STANDARD = Rules()

#: [ours] The standard protocol with the I2 quota paced over the run (`inclusion.i2_paced_releases_data`):
#: the same cap Q, spent evenly instead of first. A named policy, audited like any variant
#: (docs/protocol.md, deviation 12); the reference trains with it as `asfl-paced`.
PACED = replace(STANDARD, name="paced", i2_releases_data=inclusion.i2_paced_releases_data)


def context(params: Params, domain: Any, rules: Rules = STANDARD) -> Context:
    return Context(params, domain, rules)
