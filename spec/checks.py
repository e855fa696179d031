"""The checks a correct aggregator runs before it endorses or certifies (section 6, A1).

Rules owned here:
  endorse  only from the cluster's coordinator; S a subset of S_i^r with |S| >= m; one signed
           contribution per member with a share for every aggregator; write-once per (r, i) (Q2)
  A1       a share-sum equals the sum of the shares its sender was given (ideal functionality)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .context import Context
from .domain import sum_values
from .messages import Contrib, Party, ShareSum, Sig, UnmaskReq, aggregator, endorsement_payload


def members_problem(ctx: Context, r: int, i: int, members: frozenset[int]) -> str | None:
    """S must be a subset of S_i^r with at least m members (P2, P7)."""
    params = ctx.params
    assert params.m is not None
    if not 0 <= r < params.R:
        return f"round {r} is outside 0..R-1"
    if not 0 <= i < params.n_a:
        return f"cluster {i} does not exist"
    if not members <= ctx.clusters(r)[i]:
        return f"S is not a subset of S_{i}^{r}"
    if len(members) < params.m:
        return f"|S|={len(members)} < m={params.m}"
    return None


def contribs_problem(
    ctx: Context, r: int, members: frozenset[int], contribs: Sequence[Contrib]
) -> str | None:
    """One contribution per member of S, of round r, each with a share for every aggregator."""
    if len(contribs) != len(members) or sorted(c.c for c in contribs) != sorted(members):
        return "contributions do not match S one to one"
    for c in contribs:
        if c.r != r:
            return f"contribution of client {c.c} is for round {c.r}, not {r}"
        if len(c.sealed) != ctx.params.n_a or any(s.to != k for k, s in enumerate(c.sealed)):
            return f"contribution of client {c.c} lacks a sealed share per aggregator"
    return None


def standard_endorse_problem(
    ctx: Context, j: int, endorsed: Mapping[tuple[int, int], frozenset[int]], src: Party, msg: UnmaskReq
) -> str | None:
    """Why aggregator j refuses to endorse (r, i, S), or None. Write-once per (r, i): by Q2, two
    sets of one (round, cluster) can then never both gather T share-sums."""
    if src != aggregator(msg.i):
        return f"UNMASK_REQ for cluster {msg.i} not from its coordinator"
    problem = members_problem(ctx, msg.r, msg.i, msg.members) or contribs_problem(
        ctx, msg.r, msg.members, msg.contribs
    )
    if problem:
        return problem
    before = endorsed.get((msg.r, msg.i))
    if before is not None and before != msg.members:
        return f"Q2 write-once: already endorsed another set for ({msg.r}, {msg.i})"
    return None


def standard_share_sum_verifies(ctx: Context, contribs: Sequence[Contrib], ss: ShareSum) -> bool:
    """A1, as an ideal functionality: the share-sum equals the sum of the shares its sender was
    given for S and carries the sender's endorsement of (r, i, S). The reference realises this with
    linear MACs; here the predicate is exact, and it outputs one bit only."""
    domain = ctx.domain
    if ss.endorsement != Sig(ss.sender, endorsement_payload(ss.r, ss.i, ss.members)):
        return False
    if not contribs or not 0 <= ss.sender < min(len(c.sealed) for c in contribs):
        return False
    return domain.equal(sum_values(domain, [c.sealed[ss.sender].share for c in contribs]), ss.total)
