"""Mutant: endorsement is not write-once per (round, cluster)."""

from asfl.spec import STANDARD
from asfl.spec.fmap import FMap

NAME = "endorse-twice"
DESCRIPTION = "an endorser answers UNMASK_REQ for a second set of the same (round, cluster)"


def forgetful_endorse_problem(ctx, j, endorsed, src, msg):
    # the standard checks, with the record of earlier endorsements forgotten
    return STANDARD.endorse_problem(ctx, j, FMap(), src, msg)


RULES = {"endorse_problem": forgetful_endorse_problem}
