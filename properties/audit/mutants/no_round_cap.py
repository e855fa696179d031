"""Mutant: a late contribution is carried over into a round the client already contributed to."""

from asfl.spec.inclusion import i3_fresh_enough

NAME = "no-round-cap"
DESCRIPTION = "carry-over ignores I1: a client can be in two sets of one round"


def carry_to_next_round(contributed, late_round, r_model, s_max, rounds):
    r = late_round + 1
    return r if r < rounds and i3_fresh_enough(r, r_model, s_max) else None


RULES = {"i3_carry_round": carry_to_next_round}
