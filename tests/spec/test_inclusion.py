"""I2 paced (`inclusion.i2_paced_target`, the `PACED` rule table): the quota spread over the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from asfl.spec import PACED, STANDARD, Context, Params
from asfl.spec.client import initial_client, on_train_done
from asfl.spec.inclusion import (
    PACE_SLACK,
    i2_paced_releases_data,
    i2_paced_target,
    pace_slots,
    paced_data_fraction,
)
from hypothesis import given
from hypothesis import strategies as st

from .helpers import ctx

pace = st.tuples(st.integers(1, 12), st.integers(1, 30), st.integers(0, 999))  # (quota, rounds, c)


@given(pace)
def test_target_climbs_by_at_most_one_and_reaches_q_with_a_round_of_slack(qrc):
    """The target never passes Q (I2) and reaches it at round R-1-PACE_SLACK (or round 0), so the
    last PACE_SLACK rounds are left for the races a release can lose (F2, F4). With Q <= slots it
    climbs by at most one a round (a client contributes once a round, I1); with Q > slots it is at
    least min(Q, r+1) at round r: a client (at most r releases before round r) then releases
    whenever it can, the standard rule."""
    quota, rounds, c = qrc
    slots = pace_slots(rounds)
    targets = [i2_paced_target(quota, r, rounds, c) for r in range(rounds)]
    assert all(0 <= t <= quota for t in targets)
    assert targets[slots - 1] == quota and slots == max(rounds - PACE_SLACK, 1)
    if quota <= slots:
        assert all(b - a in (0, 1) for a, b in zip([0, *targets], targets, strict=False))
    else:
        assert all(t >= min(quota, r + 1) for r, t in enumerate(targets))


@given(st.integers(1, 8), st.integers(3, 20))
def test_every_round_has_the_same_share_of_clients_due(quota, rounds):
    """Over a full cycle of phases (c mod slots), each round has Q of every `slots` clients due to
    release when Q <= slots: the pace spreads data evenly, the point of the policy."""
    slots = pace_slots(rounds)
    if quota > slots:
        return
    due = Counter()
    for c in range(slots):
        for r in range(slots):
            before = i2_paced_target(quota, r - 1, rounds, c) if r else 0
            due[r] += i2_paced_target(quota, r, rounds, c) - before
    assert set(due.values()) == {quota}
    assert paced_data_fraction(quota, rounds) == quota / slots


def test_a_client_behind_the_pace_releases_and_one_ahead_sends_noise_only():
    # Q=2 over the 7 slots of R=10: client 0 is due its first release at round 3 ((2*4 + 0) // 7)
    assert [i2_paced_target(2, r, 10, 0) for r in range(10)] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert not i2_paced_releases_data(0, 2, 2, 10, 0)
    assert i2_paced_releases_data(0, 2, 3, 10, 0)
    assert i2_paced_releases_data(1, 2, 8, 10, 0)  # behind: releases whenever it contributes
    assert not i2_paced_releases_data(2, 2, 9, 10, 0)  # never past Q


def test_with_no_room_to_pace_the_paced_rule_is_the_standard_one():
    """R <= PACE_SLACK + 1 (the default R=4 of `asfl check`): one slot, everything due at once."""
    for rounds in range(1, PACE_SLACK + 2):
        for quota, released, r, c in [(1, 0, 0, 5), (2, 1, 0, 7), (3, 2, rounds - 1, 2), (1, 1, 0, 0)]:
            assert i2_paced_releases_data(released, quota, r, rounds, c) == (released < quota)


def test_paced_client_sends_noise_only_ahead_of_pace_and_the_standard_one_does_not():
    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, d=3, R=10, Q=2)
    std, paced = ctx(params), Context(params, ctx(params).domain, PACED)
    # client 0 at round 0: the standard rule releases data first, the paced one is not due yet
    s_std, _ = on_train_done(std, initial_client(std, 0))
    s_paced, _ = on_train_done(paced, initial_client(paced, 0))
    assert s_std.released == 1 and s_std.outstanding[0].with_data
    assert s_paced.released == 0 and not s_paced.outstanding[0].with_data
    # at round 4 it is due: data
    st4 = replace(initial_client(paced, 0), training=4, model_round=4)
    s4, _ = on_train_done(paced, st4)
    assert s4.released == 1 and s4.outstanding[4].with_data
    assert PACED.replaced() == ["i2_releases_data"] and STANDARD.replaced() == []
