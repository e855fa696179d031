"""Mutant: a contribution that arrives after its set was fixed is dropped (no carry-over, I3)."""

NAME = "drop-late"
DESCRIPTION = "late contributions are dropped instead of carried over to the next round"


def never_carry(contributed, late_round, r_model, s_max, rounds):
    return None


RULES = {"i3_carry_round": never_carry}
