"""Mutant: a contribution that arrives after its set was fixed is dropped (no carry-over, I3).

Equivalent under P1-P9 and the checker's model of time, so it is not in the catalogue. A late
contribution is carried into the client's next round; dropped, the client trains again on the
next model and contributes to that same round (I1 allows one contribution per round either way),
so every count, set and model of a run is reachable both ways. What the carry-over saves is the
retraining, i.e. wall-clock time, which the checker's events do not measure; the reference's
`asfl-no-inclusion` baseline (docs/reference.md), which drops late contributions and has no
quota, shows the cost in simulated time. Measured: in the fault-free fair phase on n_c = 8 and 12,
R = 3-6 and every quota, drop-late ends with exactly the baseline's counts.
"""

NAME = "drop-late"
DESCRIPTION = "late contributions are dropped instead of carried over to the next round"


def never_carry(contributed, late_round, r_model, s_max, rounds):
    return None


RULES = {"i3_carry_round": never_carry}
