"""The privacy price of no agreement: the noise in an averaged update, predicted and measured.

Each cluster sum is released to the aggregators on its own (P7: it carries noise variance at
least sigma^2, section 4: every client adds sigma^2/m), and a correct aggregator's update averages
the certified results of `K = averaging_quorum = n_a - t_a` clusters (section 6, inter-cluster:
`w_{r+1} = w_r + eta * sum(agg) / sum(|S|)`). With |S| = m members per cluster, the noise of that
average has, per coordinate, the standard deviation

    asfl         sqrt(K m * sigma^2/m) / (K m)  =  z C / (m sqrt(K))
    central DP   z_c C / n_c                       (one Gaussian of std z_c C on the sum of n_c)
    per-cluster  sqrt(n_a) z_pc C / n_c            (every cluster, every client, synchronous)

so at n_c ~ n_a m the ratio to central DP is `(z / z_c) * n_a / sqrt(K)`: sqrt(n_a) when t_a = 0,
n_a / sqrt(n_a - t_a) otherwise, times the ratio of the calibrated multipliers (ASFL's z is for Q
releases, central DP's z_c for R). Past its quota a client sends noise only (I2), so the signal in
an averaged update is the data fraction f of its members; the noise-to-signal price is the std
ratio divided by f (f = 1 for the synchronous baselines, about min(1, Q/R) for ASFL).

`measure_asfl` measures the same std in a run: for every round and every correct aggregator, the
certified results it averaged (its proof), each member's noise regenerated from the domain (a pure
function of the seed, the client and the round it trained on), summed and divided by sum(|S|) as
the averager does. The data part is the certified sum minus that noise (exact, P1), so the data
fraction is counted from the contributions themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from asfl.spec.messages import Contrib
from asfl.spec.params import Params
from asfl.spec.rules import Rules
from asfl.spec.world import World

from .field import decode


@dataclass(frozen=True)
class NoiseMeasure:
    """The noise in one method's averaged update (model units, before the server step eta)."""

    method: str
    predicted_std: float
    measured_std: float
    data_fraction_predicted: float
    data_fraction_measured: float
    updates: int  # averaged updates measured (rounds x correct aggregators, or rounds)
    # every certified sum minus its members' noise is a sum of clipped data parts (P1): at most
    # C (plus fixed-point rounding) per data member, and exactly zero when none carried data
    residual_within_clip: bool = True

    def to_json(self) -> dict:
        return {
            "predicted_std": self.predicted_std,
            "measured_std": self.measured_std,
            "data_fraction_predicted": self.data_fraction_predicted,
            "data_fraction_measured": self.data_fraction_measured,
            "updates": self.updates,
            "residual_within_clip": self.residual_within_clip,
        }


def predicted_std_asfl(params: Params, rules: Rules) -> float:
    """z C / (m sqrt(K)): K clusters of m members, each member adding variance sigma^2/m (P7)."""
    k = rules.averaging_quorum(params)
    n = k * params.m
    return math.sqrt(n * rules.noise_variance(params)) / n


def predicted_std_central(z_c: float, clip: float, n_c: int) -> float:
    """z_c C / n_c: one Gaussian of std z_c C on the sum of n_c clipped updates."""
    return z_c * clip / n_c


def predicted_std_per_cluster(z_pc: float, clip: float, n_c: int, clusters: int) -> float:
    """sqrt(n_a) z_pc C / n_c: every cluster sum carries (z_pc C)^2, all clusters averaged."""
    return math.sqrt(clusters) * z_pc * clip / n_c


def predicted_data_fraction(params: Params, rules: Rules) -> float:
    """min(1, Q/R): a client that contributes every round releases data Q times in R (I2); 1 when
    the rules release data past the quota (no inclusion mechanism)."""
    assert params.Q is not None
    if rules.i2_releases_data(params.Q, params.Q, 0, params.R, 0):
        return 1.0
    return min(1.0, params.Q / params.R)


class ContributionLog:
    """An `on_step` observer: the round each contribution trained on and whether it carried data.

    (r, c) -> r_model from every CONTRIB put in flight (I1: one per round and client), and
    (c, r_model) -> with_data from the client's own outstanding record (a carried-over
    contribution keeps both, I3)."""

    def __init__(self) -> None:
        self.r_model: dict[tuple[int, int], int] = {}
        self.with_data: dict[tuple[int, int], bool] = {}

    def __call__(self, world: World, now: float) -> None:
        last = world.last
        if last is None or not last.sent:
            return
        for env in world.in_flight[len(world.in_flight) - len(last.sent) :]:
            msg = env.msg
            if isinstance(msg, Contrib) and env.src.role == "c":
                self.r_model[(msg.r, msg.c)] = msg.r_model
                pending = world.clients[msg.c].outstanding.get(msg.r)
                if pending is not None:
                    self.with_data[(msg.c, msg.r_model)] = pending.with_data


def measure_asfl(method: str, world: World, domain, rules: Rules, log: ContributionLog) -> NoiseMeasure:
    """The noise std of every correct aggregator's averaged updates, from the certified results
    it averaged (see the module docstring). `domain` is the run's `TrainingDomain`."""
    params = world.params
    variance = rules.noise_variance(params)
    scale, q = params.scale, params.q
    noise_cache: dict[tuple[int, int], np.ndarray] = {}
    cluster_cache: dict[tuple, tuple[np.ndarray, int]] = {}

    def member_noise(c: int, r_model: int) -> np.ndarray:
        key = (c, r_model)
        if key not in noise_cache:
            noise_cache[key] = decode(domain.noise(c, r_model, variance).a, scale, q)
        return noise_cache[key]

    sq_sum, coords, updates, data_members, members_total = 0.0, 0, 0, 0, 0
    within = True
    for agg in world.aggregators:
        if agg is None or agg.j in world.byzantine:
            continue
        for r, chosen in enumerate(agg.proof):
            total = np.zeros(params.d)
            count = 0
            for res in chosen:
                key = (r, res.i, res.members)
                if key not in cluster_cache:
                    noise = np.zeros(params.d)
                    with_data = 0
                    for c in res.members:
                        r_model = log.r_model[(r, c)]
                        noise += member_noise(c, r_model)
                        with_data += log.with_data[(c, r_model)]
                    residual = decode(res.agg.a, scale, q) - noise
                    slack = len(res.members) * math.sqrt(params.d) / scale
                    within &= bool(np.linalg.norm(residual) <= with_data * params.clip + slack)
                    cluster_cache[key] = (noise, with_data)
                noise, with_data = cluster_cache[key]
                total += noise
                count += len(res.members)
                data_members += with_data
            members_total += count
            avg = total / count
            sq_sum += float(avg @ avg)
            coords += params.d
            updates += 1
    return NoiseMeasure(
        method,
        predicted_std_asfl(params, rules),
        math.sqrt(sq_sum / coords) if coords else float("nan"),
        predicted_data_fraction(params, rules),
        data_members / members_total if members_total else float("nan"),
        updates,
        within,
    )
