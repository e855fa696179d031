"""The inclusion mechanism, I1-I4 (PROTOCOL.md section 6): uniform participation, balanced budgets.

Each rule is a small pure predicate, so the client and the coordinator cite the same code.
"""

from __future__ import annotations

from collections.abc import Set


def i1_may_contribute(contributed: Set[int], r: int) -> bool:
    """I1 one per round: a client contributes at most once per round."""
    return r not in contributed


def i2_releases_data(released: int, quota: int, r: int, rounds: int, c: int) -> bool:
    """I2 quota: data is released at most Q times; past that a client sends noise only.

    (The round `r`, the horizon `rounds` and the client `c` are for policies that pace the quota,
    `i2_paced_releases_data`; the standard rule releases data first, while it can.)"""
    return released < quota


#: [ours] Rounds a paced quota leaves after the last release is due: the three rounds F2 measured
#: a release may need beyond its first try (a lost race, a lost race of the carry-over, a
#: retraining preempted by the next model). With one round (the slack of Q's default) the audit
#: found a client left without a release at R=4 where the standard rule balances (finding F4).
#: At R <= 4, the default of `asfl check`, the paced rule is now the standard one.
PACE_SLACK = 3


def pace_slots(rounds: int, slack: int = PACE_SLACK) -> int:
    """The rounds a paced quota is spread over: 0..R-1-slack (at least round 0)."""
    return max(rounds - slack, 1)


def i2_paced_target(quota: int, r: int, rounds: int, c: int, slack: int = PACE_SLACK) -> int:
    """[ours] I2 paced: how many data releases client c should have made once it contributed to round r.

    The Q releases are spread evenly over `pace_slots(R)` rounds, client c's phase offset by
    `c mod slots`, so in every round the same fraction Q/slots of the clients is due to release
    (to within one client per slot), and every client's target reaches Q by round R-1-PACE_SLACK. With
    R <= PACE_SLACK + 1 there is one slot: every release is due at once, the standard rule."""
    slots = pace_slots(rounds, slack)
    return min(quota, (quota * (r + 1) + c % slots) // slots)


def i2_paced_releases_data(released: int, quota: int, r: int, rounds: int, c: int) -> bool:
    """[ours] I2 paced: release data only while behind the pace, never past Q (I2's cap is kept).

    A client that is behind (a lost race, a slow client) releases whenever it contributes; the
    point is that every round averages data, not the first Q rounds only (docs/protocol.md,
    deviation 12). The price (finding F4): a client that gets only Q chances to contribute, one
    of them before it is due, ends short of Q, which the standard rule never lets happen."""
    return released < i2_paced_target(quota, r, rounds, c)


def paced_data_fraction(quota: int, rounds: int) -> float:
    """The share of a paced round's contributions that carry data, Q / slots (at most 1): what an
    averager divides by to keep eta a step per data contribution."""
    return min(1.0, quota / pace_slots(rounds))


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


def i3_noise_carry(may_release: bool, holds_its_model: bool, trains_for_it: bool) -> str:
    """[ours] I3 for a noise-only contribution left out of its set (finding F6, deviation 15).

    A client sends noise only when I2 forbids data at that moment; a take-back may have allowed it
    since. Carrying the noise as it was then fills the next round's slot (I1) with nothing of the
    client's, and at n_a = 7 that lost the client the two rounds of slack H1 keeps (F6). So, when
    I2 now allows a release (`may_release`, asked for the carry round):
    - the client still holds the model it trained on (`holds_its_model`): it adds its update to the
      carried value and the carry-over is a data release (the noise is the same, never unmasked:
      P2, as for a carried data contribution);
    - else, if it is training for the carry round (`trains_for_it`): the noise is not carried, so
      the training's contribution, with data, takes that round's slot;
    - else the noise is carried as before (nothing of the client's could take its place).
    Without a release allowed, the noise is carried as I3 is written."""
    if not may_release:
        return "as noise"
    if holds_its_model:
        return "as data"
    return "dropped" if trains_for_it else "as noise"


def i1_coordinator_accepts(held: Set[int], c: int) -> bool:
    """I1 (coordinator side): a correct coordinator accepts at most one CONTRIB per (round, client)."""
    return c not in held


def i2_take_back() -> bool:
    """I2: a release is taken back when a certificate shows another set was fixed for its
    (round, cluster): by P2 that contribution can then never be unmasked."""
    return True
