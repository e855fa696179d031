"""Deliberately broken protocols: one rule table per property, so that no property is vacuous.

Each variant is `dataclasses.replace(STANDARD, name=..., rule=fn)`: it changes one named rule of
PROTOCOL.md, and the exploration must find the property it breaks (tests/properties/test_variants.py
pins the shrunk trace's length and that it replays to the same violation). Their traces replay:
`traces.rule_tables` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from asfl.spec import PACED, STANDARD, Params, Rules, inclusion
from asfl.spec.context import Context
from asfl.spec.domain import Label, Value, polynomial_share, share_point
from asfl.spec.messages import Contrib, Sealed, ShareSum


def _mask_degree_T(ctx: Context, c: int, r: int, x: Value) -> tuple[Value, tuple[Sealed, ...]]:
    """Broken section 4: a sharing polynomial of degree T (one coefficient too many), so T share-sums
    no longer interpolate to the pad sum: the pads do not cancel (breaks P1)."""
    params, domain = ctx.params, ctx.domain
    rho = domain.draw(Label("pad", c, r))
    coeffs = [domain.draw(Label("coef", c, r, k)) for k in range(1, params.T + 1)]
    sealed = tuple(
        Sealed(j, polynomial_share(domain, rho, coeffs, share_point(j))) for j in range(params.n_a)
    )
    return domain.add(x, rho), sealed


def _mask_constant(ctx: Context, c: int, r: int, x: Value) -> tuple[Value, tuple[Sealed, ...]]:
    """Broken section 4: every aggregator's share is the pad itself (degree 0), so one Byzantine
    share unmasks one client (breaks P3; Q1 in spirit)."""
    params, domain = ctx.params, ctx.domain
    rho = domain.draw(Label("pad", c, r))
    return domain.add(x, rho), tuple(Sealed(j, rho) for j in range(params.n_a))


def _endorse_no_write_once(ctx, j, endorsed, src, msg) -> str | None:
    """Broken endorse rule: the write-once check is dropped (and share-sums are released at once,
    since reveal-once would still stop it), so an equivocating coordinator gets two sets of one
    (round, cluster) endorsed by the same correct aggregators (breaks P2)."""
    return STANDARD.endorse_problem(ctx, j, {}, src, msg)


def _share_sum_at_once(params: Params) -> int:
    """The protocol as PROTOCOL.md first wrote it: an endorser replies to UNMASK_REQ with its
    share-sum at once. An equivocating coordinator then collects share-sums of different sets of
    one (round, cluster), none reaching T, that combine into a linear function of two members'
    values outside every allowed sum (finding F1; breaks P3)."""
    return 0


def _no_cluster_relay(params: Params) -> bool:
    """The protocol as PROTOCOL.md first wrote it: CLUSTER only from the coordinator, never relayed.
    A Byzantine coordinator that sends CLUSTER to one correct aggregator lets it publish model r+1;
    clients jump from model r-1 to r+1 and never contribute to round r, so a correct cluster of round
    r starves and the other correct aggregators never complete round r (finding F3; breaks P5)."""
    return False


def _accept_any_model(ctx, msg) -> str | None:
    """Broken client step 1: a MODEL is accepted without checking its proof (breaks P4)."""
    return None


def _paced_one_round_slack(released: int, quota: int, r: int, rounds: int, c: int) -> bool:
    """I2 paced as first written (finding F4): the quota spread over rounds 0..R-2, one round of
    slack as Q's default keeps. A client not due in round 0 sends noise only; when that contribution
    is late, its carry-over takes the round the client is due in, and the next models preempt its
    trainings: it ends without a release (breaks P6's balance)."""
    return released < inclusion.i2_paced_target(quota, r, rounds, c, slack=1)


def _noise_carried_as_sent(may_release: bool, holds_its_model: bool, trains_for_it: bool) -> str:
    """I3 as PROTOCOL.md writes it, before finding F6: a noise-only contribution left out of its set
    is carried as it was sent, even when a take-back has since let I2 release data in its place; at
    n_a = 7 one late take-back so cost a client two rounds (breaks P6 at n_c=20, t_c=0, R=4)."""
    return "as noise"


def _no_quota(released: int, quota: int, r: int, rounds: int, c: int) -> bool:
    """Broken I2: data is released every time, the quota is ignored (breaks P6)."""
    return True


def _noise_for_cluster_size(params: Params) -> float:
    """Broken section 4: noise calibrated for a full cluster (sigma^2/k_max) instead of m: a set of m
    members carries less than sigma^2 (breaks P7)."""
    return params.sigma**2 / max(params.k)


def _small_averaging_quorum(params: Params) -> int:
    """Broken inter-cluster rule: average as soon as n_a - 3*t_a clusters are certified (one, at the
    default sizes), so two correct aggregators may average disjoint sets of clusters (breaks P8)."""
    return max(1, params.n_a - 3 * params.t_a)


def _wait_for_all_sums(params: Params, sums: Mapping[int, ShareSum]) -> bool:
    """Broken coordinator rule: wait for share-sums of all n_a aggregators, not T: t_a silent
    aggregators block every cluster (breaks P9, and Q3 in spirit)."""
    return len(sums) >= params.n_a


def _replace(table: Rules, name: str, **rules: object) -> Rules:
    """`table` named `name`, with `rules` in place of its own. A rule the running spec's table does
    not have is left out: the judge also runs against an older spec/ (the spec-diff audit's
    baseline), and a table that restores a rule as first written (`i3_noise_carry`, F6) is, on a
    spec from before that rule, what that spec already does."""
    known = set(Rules.names())
    return replace(table, name=name, **{k: v for k, v in rules.items() if k in known})


@dataclass(frozen=True)
class Variant:
    """A broken rule table and the property it must break."""

    rules: Rules
    breaks: str
    adversaries: tuple[str, ...]  # adversaries enough to reach the failure
    why: str


def _fix_set_all_members(params: Params, held: Mapping[int, Contrib]) -> frozenset[int] | None:
    """Broken coordinator rule: wait for every member of the cluster, not m (breaks P5)."""
    # cluster sizes are n_c // n_a or one more; a cluster is "all in" at its own size, which the
    # coordinator knows; the table rule sees only what it holds, so use the largest size: a cluster
    # of k_max waits for everyone, a smaller one cannot fill at all
    return frozenset(held) if len(held) >= max(params.k) else None


VARIANTS: dict[str, Variant] = {
    v.rules.name: v
    for v in [
        Variant(
            replace(STANDARD, name="mask-degree-T", mask=_mask_degree_T),
            "P1",
            ("coordinator",),
            _mask_degree_T.__doc__ or "",
        ),
        Variant(
            replace(
                STANDARD,
                name="no-write-once",
                endorse_problem=_endorse_no_write_once,
                reveal_quorum=_share_sum_at_once,
            ),
            "P2",
            ("equivocating",),
            _endorse_no_write_once.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="constant-sharing", mask=_mask_constant),
            "P3",
            ("coordinator",),
            _mask_constant.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="share-sum-at-once", reveal_quorum=_share_sum_at_once),
            "P3",
            ("equivocating",),
            _share_sum_at_once.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="no-cluster-relay", relay_cluster=_no_cluster_relay),
            "P5",
            ("coordinator",),
            _no_cluster_relay.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="accept-any-model", model_problem=_accept_any_model),
            "P4",
            ("forged",),
            _accept_any_model.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="wait-all-members", fix_set=_fix_set_all_members),
            "P5",
            (),
            _fix_set_all_members.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="no-quota", i2_releases_data=_no_quota), "P6", (), _no_quota.__doc__ or ""
        ),
        Variant(
            _replace(
                STANDARD,
                "paced-one-slack",
                i2_releases_data=_paced_one_round_slack,
                # as first written: before F6, a noise-only contribution was carried as sent (I3)
                i3_noise_carry=_noise_carried_as_sent,
            ),
            "P6",
            ("late_censor",),
            _paced_one_round_slack.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="noise-for-cluster-size", noise_variance=_noise_for_cluster_size),
            "P7",
            (),
            _noise_for_cluster_size.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="small-averaging-quorum", averaging_quorum=_small_averaging_quorum),
            "P8",
            ("coordinator",),
            _small_averaging_quorum.__doc__ or "",
        ),
        Variant(
            replace(STANDARD, name="wait-all-sums", cluster_ready=_wait_for_all_sums),
            "P9",
            (),
            _wait_for_all_sums.__doc__ or "",
        ),
    ]
}


#: The protocol's tables as they were before a fix, for the pinned traces recorded under them (they
#: break a property only at sizes or budgets a variant's pinned search does not reach, so they are
#: not `VARIANTS`): I3 carrying a noise-only contribution as sent, before finding F6 (deviation 15).
SUPERSEDED: dict[str, Rules] = {
    t.name: t
    for t in [
        _replace(STANDARD, "noise-carried-as-sent", i3_noise_carry=_noise_carried_as_sent),
        _replace(PACED, "paced-noise-carried-as-sent", i3_noise_carry=_noise_carried_as_sent),
    ]
}
