"""Mutant: an endorser does not check that S is a subset of the cluster with at least m members."""

from asfl.spec.messages import aggregator

NAME = "unchecked-set"
DESCRIPTION = "endorsers do not check that S is a subset of S_i^r with at least m members"


def lax_endorse_problem(ctx, j, endorsed, src, msg):
    if src != aggregator(msg.i):
        return "UNMASK_REQ not from its coordinator"
    before = endorsed.get((msg.r, msg.i))
    if before is not None and before != msg.members:
        return "Q2 write-once: already endorsed another set"
    if any(len(c.sealed) != ctx.params.n_a for c in msg.contribs):
        return "a contribution lacks a share per aggregator"
    return None


RULES = {"endorse_problem": lax_endorse_problem}
