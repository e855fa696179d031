"""End to end (issue: foundation): one silent Byzantine aggregator, one crashed client, 3 rounds."""

from __future__ import annotations

import pytest
from asfl.reference.simulator import simulate
from asfl.spec import Params

P = Params(n_c=8, t_c=1, n_a=4, t_a=1)


def _check_certified_sums(res) -> int:
    """Every averaged (certified) sum equals the sum of its members' values (P1), exactly in F_q."""
    dom = res.world.domain
    checked = 0
    for a in res.world.aggregators:
        if a is None:
            continue
        for r, results in enumerate(a.proof):
            for result in results:
                expected = dom.zero()
                for c in result.members:
                    expected = dom.add(expected, res.values[(r, c)])
                assert result.agg == expected
                checked += 1
    return checked


@pytest.mark.parametrize("scheduler", ["random", "fifo"])
def test_every_correct_aggregator_finishes_every_round(scheduler):
    seeds = range(200) if scheduler == "random" else range(20)
    for seed in seeds:
        res = simulate(P, seed, scheduler)
        assert res.finished, f"seed {seed} did not finish ({scheduler})"
        assert len(res.byzantine) == 1 and len(res.crashed) == 1
        for a, rounds in res.averaged.items():
            assert sorted(rounds) == [0, 1, 2]
            assert all(len(clusters) == P.n_a - P.t_a for clusters in rounds.values())
            assert a not in res.byzantine
        correct = set(range(P.n_c)) - set(res.crashed)
        assert all(set(res.accepted[c]) >= {3} for c in correct)


def test_certified_sums_equal_the_sums_of_member_values():
    total = 0
    for seed in range(15):
        total += _check_certified_sums(simulate(P, seed))
    assert total >= 15 * 3 * 3  # every averaged cluster of every round was checked


def test_same_seed_same_run():
    a, b = simulate(P, 11), simulate(P, 11)
    assert a.events == b.events and a.world == b.world
    assert simulate(P, 12).events != a.events


def test_larger_configuration_finishes():
    p = Params(n_c=40, t_c=1, n_a=7, t_a=2, R=2)
    res = simulate(p, 3)
    assert res.finished and len(res.byzantine) == 2
