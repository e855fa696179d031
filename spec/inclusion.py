"""The inclusion mechanism, I1-I4 (PROTOCOL.md section 6): uniform participation, balanced budgets.

Each rule is a small pure predicate, so the client and the coordinator cite the same code.
"""

from __future__ import annotations

from collections.abc import Set


def i1_may_contribute(contributed: Set[int], r: int) -> bool:
    """I1 one per round: a client contributes at most once per round."""
    return r not in contributed


def i2_releases_data(released: int, quota: int) -> bool:
    """I2 quota: data is released at most Q times; past that a client sends noise only."""
    return released < quota


def i3_fresh_enough(r: int, r_model: int, s_max: int) -> bool:
    """I3 staleness: a contribution to round r trained on the model of round r_model is accepted
    while 0 <= r - r_model <= s_max (I4: and never refused for being late within that bound)."""
    return 0 <= r - r_model <= s_max


def i3_carry_round(
    contributed: Set[int], late_round: int, r_model: int, s_max: int, rounds: int
) -> int | None:
    """I3 carry-over: the round a late contribution is re-masked for, or None when it is too stale.

    The next round after `late_round` that the client has not contributed to (I1), still within
    `s_max` of the model it was trained on and before the last round.
    """
    r = late_round + 1
    while r < rounds and i3_fresh_enough(r, r_model, s_max):
        if i1_may_contribute(contributed, r):
            return r
        r += 1
    return None


def i1_coordinator_accepts(held: Set[int], c: int) -> bool:
    """I1 (coordinator side): a correct coordinator accepts at most one CONTRIB per (round, client)."""
    return c not in held


def i2_take_back() -> bool:
    """I2: a release is taken back when a certificate shows another set was fixed for its
    (round, cluster): by P2 that contribution can then never be unmasked."""
    return True
