"""The privacy price of no agreement (noise_price.py): the noise std of an averaged update,
predicted from the protocol's parameters and measured from the certified sums of a run."""

import math
from dataclasses import replace

import pytest
from asfl.reference import noise_price
from asfl.reference.experiment import TrainConfig, make_domain, run_method, setup
from asfl.spec.rules import STANDARD

# 40 clients in 4 clusters of 10, m = 9: the averaged update sums about 27 members' noise
CFG = TrainConfig(n_c=40, rounds=3, epochs=1, epsilon=8.0)


@pytest.fixture(scope="module")
def price():
    s = setup(CFG)
    return s, {m: run_method(s, m) for m in ("central-dp", "per-cluster-dp", "asfl")}


def test_predicted_and_measured_noise_agree_within_10_percent(price):
    _, runs = price
    for method, res in runs.items():
        n = res.extra["noise"]
        assert n.updates > 0
        assert abs(n.measured_std - n.predicted_std) <= 0.10 * n.predicted_std, (method, n)
    asfl, central = runs["asfl"].extra["noise"], runs["central-dp"].extra["noise"]
    predicted_ratio = asfl.predicted_std / central.predicted_std
    measured_ratio = asfl.measured_std / central.measured_std
    assert abs(measured_ratio - predicted_ratio) <= 0.10 * predicted_ratio


def test_the_price_is_the_formula_of_the_protocol(price):
    s, runs = price
    p = s.params
    k = p.n_a - p.t_a  # the averaging quorum: a correct aggregator never waits for more (P9)
    assert runs["asfl"].extra["noise"].predicted_std == pytest.approx(s.z * p.clip / (p.m * math.sqrt(k)))
    assert runs["central-dp"].extra["noise"].predicted_std == pytest.approx(s.z_central * p.clip / p.n_c)
    # the per-cluster baseline releases every cluster sum with sigma^2: sqrt(n_a) times central DP
    # at the same multiplier (both calibrated for R releases)
    pc = runs["per-cluster-dp"].extra["noise"].predicted_std
    assert pc == pytest.approx(math.sqrt(p.n_a) * runs["central-dp"].extra["noise"].predicted_std)


def test_noise_part_of_every_certified_sum_is_exact(price):
    """Certified sum minus the members' regenerated noise is a sum of clipped data parts (P1)."""
    s, runs = price
    n = runs["asfl"].extra["noise"]
    assert n.residual_within_clip
    assert 0 < n.data_fraction_measured <= 1
    # the same measurement with another seed's noise does not fit: the check is not vacuous
    res = runs["asfl"]
    other = make_domain(setup(replace(CFG, seed=CFG.seed + 1)), STANDARD)
    log = res.extra["log"]
    wrong = noise_price.measure_asfl("asfl", res.extra["des"].world, other, STANDARD, log)
    assert not wrong.residual_within_clip


def test_stragglers_are_the_clients_too_slow_for_q_trainings_and_balance_excludes_them():
    import numpy as np
    from asfl.reference.experiment import RunResult, stragglers

    # horizon 10, Q = 3: a client needing more than 10/3 per training cannot reach Q
    assert stragglers(np.array([1.0, 2.0, 3.5, 10.0, 3.3]), 10.0, 3) == (2, 3)
    res = RunResult("asfl", "iid", [], {0: 3, 1: 3, 2: 1}, 1.0, 1e-5, extra={"stragglers": (2, 7)})
    assert res.stragglers == (2,)  # 7 is not a correct client of the run
    assert res.epsilon_spread() > 0.3
    assert res.epsilon_spread(set(res.stragglers)) == 0.0
