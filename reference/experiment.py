"""Federated training runs: ASFL through the spec, and the baselines it is compared with.

  fedavg           plain synchronous FedAvg, every client every round, no clipping, no noise
  central-dp       FedAvg on a trusted server: updates clipped to C, Gaussian noise of multiplier
                   z_c on the sum, z_c calibrated so R releases per client meet (epsilon, delta)
  per-cluster-dp   the baseline that releases what ASFL releases: synchronous FedAvg over the
                   spec's clusters, every cluster sum released with noise of std z_c C (each client
                   is in one cluster per round, so R releases meet (epsilon, delta) as for central
                   DP), honest aggregators averaging all n_a sums, no asynchrony, no quota. ASFL's
                   gap to it is the cost of asynchrony, Byzantine tolerance and inclusion; its gap
                   to central DP is the price of releasing cluster sums (noise_price.py)
  asfl             the protocol (`STANDARD` rules) in the discrete-event simulator; z calibrated so
                   Q releases meet (epsilon, delta) exactly (`accountant.calibrate_z`)
  asfl-paced       the protocol with the I2 quota paced over the run (the spec's `PACED` table):
                   the same z, the same cap Q, spent evenly, so every round averages data; the
                   server step divides by the data fraction Q/(R-3) (`paced_data_fraction`), so
                   eta stays a step per data contribution, as it is for the other methods
  asfl-no-inclusion the same protocol and noise without the inclusion mechanism, the
                   `NO_INCLUSION` rule table below

[ours] "Without the inclusion mechanism" is `dataclasses.replace(STANDARD, ...)` with the I2
quota never binding (every contribution releases data, so fast clients release as often as they
can) and no I3 carry-over (a late contribution is dropped, as a plain asynchronous FedAvg would).
I1 stays: a coordinator holds one contribution per (round, client) by construction of its state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import numpy as np
from asfl.spec.inclusion import paced_data_fraction
from asfl.spec.params import Params
from asfl.spec.rules import PACED, STANDARD, Rules
from asfl.spec.world import initial_world

from . import accountant, datasets, des, noise_price
from .adversaries import STRATEGIES, make_strategy
from .models import Model
from .training_domain import LocalTraining, TrainingDomain


def _never_binds(released: int, quota: int, r: int, rounds: int, c: int) -> bool:
    """No I2: every contribution releases data."""
    return True


def _no_carry(contributed, late_round, r_model, s_max, rounds) -> int | None:
    """No I3: a late contribution is dropped."""
    return None


NO_INCLUSION: Rules = replace(
    STANDARD, name="no-inclusion", i2_releases_data=_never_binds, i3_carry_round=_no_carry
)
METHODS = ("fedavg", "central-dp", "per-cluster-dp", "asfl", "asfl-paced", "asfl-no-inclusion")
#: what the t_a Byzantine aggregators do: a strategy, or "none" (t_a tolerated, every aggregator correct)
BYZANTINE = ("none", *STRATEGIES)


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "digits"
    model: str = "softmax"
    rounds: int = 10
    n_c: int = 100
    t_c: int = 1
    n_a: int = 4
    t_a: int = 1
    m: int | None = None  # default: the Params default min_i k_i - t_c
    quota: int | None = None  # None: the Params default max(1, (R-2)*m//k_max) (F5)
    s_max: int = 1
    byzantine: str = "silent"  # one of BYZANTINE
    crashes: int = 0
    epsilon: float = 8.0
    delta: float = 1e-5
    partition: str = "iid"
    alpha: float = 0.3
    seed: int = 0
    # tuned on one grid shared by central DP and ASFL (benchmarks/accuracy_gap.py tune, epsilon 8)
    clip: float = 0.5
    eta: float = 2.0
    lr: float = 0.5
    epochs: int = 5
    batch: int = 16
    hidden: int = 32
    speed_spread: float = 1.0
    speeds: str = "lognormal"  # or "pareto" (datasets.client_durations)
    latency: float = 0.02
    a1: str = "ideal"  # "ideal": the spec's A1 predicate; "mac": the MAC_A1 rule table (mac_rules.py)


@dataclass
class Setup:
    cfg: TrainConfig
    data: datasets.Dataset
    parts: list[np.ndarray]
    model: Model
    durations: np.ndarray
    params: Params
    z: float
    z_central: float


def setup(cfg: TrainConfig) -> Setup:
    """Load, partition, draw speeds, resolve the parameters and calibrate the noise."""
    data = datasets.load(cfg.dataset, cfg.seed)
    # cross-device: with more clients than 5 samples each allows, every client still gets one
    min_size = max(1, min(5, len(data.y_train) // cfg.n_c))
    parts = datasets.partition(data.y_train, cfg.n_c, cfg.partition, cfg.seed, cfg.alpha, min_size)
    model = Model(cfg.model, data.n_features, data.n_classes, cfg.hidden)
    durations = datasets.client_durations(cfg.n_c, cfg.seed, cfg.speeds, cfg.speed_spread)
    base = Params(
        n_c=cfg.n_c, t_c=cfg.t_c, n_a=cfg.n_a, t_a=cfg.t_a, m=cfg.m, Q=cfg.quota, R=cfg.rounds,
        s_max=cfg.s_max, clip=cfg.clip, d=model.dim, eta=cfg.eta,
    )  # fmt: skip
    assert base.Q is not None
    z = accountant.calibrate_z(cfg.epsilon, cfg.delta, base.Q)
    z_central = accountant.calibrate_z(cfg.epsilon, cfg.delta, cfg.rounds)
    return Setup(cfg, data, parts, model, durations, replace(base, z=z), z, z_central)


@dataclass
class RunResult:
    method: str
    partition: str
    curve: list[tuple[float, int, float]]  # (simulated time, round, test accuracy)
    releases: dict[int, int]  # correct client -> data releases counted
    z: float | None
    delta: float
    byzantine: tuple[int, ...] = ()
    finished: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.curve[-1][2] if self.curve else float("nan")

    def epsilons(self) -> dict[int, float]:
        """Exact epsilon per correct client (inf without noise)."""
        if self.z is None:
            return {c: float("inf") for c in self.releases}
        return {c: accountant.exact_epsilon(self.z, p, self.delta) for c, p in self.releases.items()}

    @property
    def stragglers(self) -> tuple[int, ...]:
        """Correct clients too slow to train Q times in the run's horizon (`stragglers`); empty
        for the synchronous baselines, where every client releases every round."""
        return tuple(c for c in self.extra.get("stragglers", ()) if c in self.releases)

    def epsilon_spread(self, exclude: tuple[int, ...] | set[int] = ()) -> float:
        """(max - min) / max of the correct clients' exact epsilons (but `exclude`): 0 is balanced."""
        eps = [e for c, e in self.epsilons().items() if c not in exclude]
        if not eps or not np.isfinite(max(eps)) or max(eps) == 0:
            return float("nan")
        return (max(eps) - min(eps)) / max(eps)


def stragglers(durations: np.ndarray, horizon: float, quota: int) -> tuple[int, ...]:
    """Clients that cannot complete Q trainings in `horizon` simulated time at their speed:
    horizon / duration < Q. No release rule can bring them to Q (P6's balance clause presumes
    a run long enough), so balance is judged over the others."""
    return tuple(int(c) for c in np.flatnonzero(horizon / np.asarray(durations) < quota))


def run_params(s: Setup, rules: Rules) -> Params:
    """The parameters a run of `rules` uses. With the paced quota, a paced round's members carry
    data in the proportion Q/slots (`paced_data_fraction`, slots = R-3), so the server step is eta
    divided by that fraction: eta stays a step per data contribution, as in every other method
    (the averager knows Q and R, never who carried data)."""
    if rules.i2_releases_data is not PACED.i2_releases_data:
        return s.params
    assert s.params.Q is not None
    return replace(s.params, eta=s.params.eta / paced_data_fraction(s.params.Q, s.params.R))


def make_domain(s: Setup, rules: Rules) -> TrainingDomain:
    """The training domain; with the `MAC_A1` rules, the one whose shares carry MAC tags."""
    from .mac_rules import MacTrainingDomain

    cls = MacTrainingDomain if rules.name == "mac-a1" else TrainingDomain
    cfg = s.cfg
    training = LocalTraining(cfg.lr, cfg.epochs, cfg.batch)
    return cls(run_params(s, rules), cfg.seed, s.model, s.data, s.parts, training)


def run_asfl(s: Setup, rules: Rules = STANDARD, strategy: str | None = None, on_step=None) -> RunResult:
    """The protocol in simulated time; accuracy of each new model when some correct aggregator
    first holds it; releases are the clients' own (pessimistic, I2) counts."""
    cfg = s.cfg
    rng = random.Random(cfg.seed)
    strategy = strategy or cfg.byzantine
    # "none": t_a is tolerated (quorums as usual) but every aggregator is correct
    byz = tuple(sorted(rng.sample(range(cfg.n_a), cfg.t_a)))  # drawn either way: same crashes
    if strategy == "none":
        byz, strategy = (), "silent"
    crash_clients = rng.sample(range(cfg.n_c), min(cfg.crashes, cfg.t_c))
    domain = make_domain(s, rules)
    world = initial_world(run_params(s, rules), domain, byz, rules)
    timing = des.Timing(tuple(float(x) for x in s.durations), latency=cfg.latency, seed=cfg.seed)
    horizon = float(np.median(s.durations)) * cfg.rounds
    crash_at = {c: rng.uniform(0, horizon) for c in crash_clients}
    log = noise_price.ContributionLog()

    def observe(w, now):
        log(w, now)
        if on_step is not None:
            on_step(w, now)

    res = des.run(world, timing, make_strategy(strategy), crash_at, on_step=observe)
    curve = [(0.0, 0, s.model.accuracy(np.asarray(domain.genesis_model().a), s.data.x_test, s.data.y_test))]
    curve += [
        (me.time, me.round, s.model.accuracy(me.model, s.data.x_test, s.data.y_test)) for me in res.models
    ]
    w = res.world
    releases = {st.c: st.released for st in w.clients if st.c not in w.crashed}
    name = "asfl" if rules.name in ("asfl", "mac-a1") else f"asfl-{rules.name}"
    noise = noise_price.measure_asfl(name, w, domain, rules, log)
    assert s.params.Q is not None
    slow = stragglers(s.durations, res.time, s.params.Q)
    return RunResult(
        name, cfg.partition, curve, releases, s.z, cfg.delta, byz, res.finished,
        {"des": res, "refused": dict(res.refused), "injected": res.injected, "steps": len(res.events),
         "noise": noise, "log": log, "stragglers": slow, "horizon": res.time},
    )  # fmt: skip


def run_fedavg(s: Setup, private: bool | str) -> RunResult:
    """Synchronous FedAvg, every client every round. `private`: False (plain FedAvg), True or
    "central" (central DP on a trusted server, see the module docstring), "per-cluster" (the
    per-cluster baseline: the clients of each of round r's clusters S_i^r (section 3) are summed on
    their own and each cluster sum gets noise of std sigma = z_c C, as ASFL's release of a cluster
    sum does (P7); the server averages all n_a sums, so the noise of the average is sqrt(n_a)
    times central DP's at the same multiplier). A round lasts as long as its slowest client plus a
    round trip."""
    mode = {False: "none", True: "central"}.get(private, private)  # type: ignore[arg-type]
    if mode not in ("none", "central", "per-cluster"):
        raise ValueError(f"unknown FedAvg mode {private!r}")
    cfg = s.cfg
    rng = np.random.default_rng([cfg.seed, 21, int(mode != "none")])
    w = s.model.init(cfg.seed)
    x, y = s.data.x_train, s.data.y_train
    t = 0.0
    curve = [(0.0, 0, s.model.accuracy(w, s.data.x_test, s.data.y_test))]
    sigma = s.z_central * cfg.clip
    noise_sq = 0.0
    for r in range(cfg.rounds):
        total = np.zeros_like(w)
        for c, idx in enumerate(s.parts):
            crng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 3, c, r]))
            u = s.model.local_update(w, x[idx], y[idx], crng, cfg.lr, cfg.epochs, cfg.batch)
            if mode != "none":
                norm = float(np.linalg.norm(u))
                u = u if norm <= cfg.clip else u * (cfg.clip / norm)
            total += u
        if mode != "none":
            # per cluster: one draw per cluster sum (a sum of its members' shares of the noise is
            # the same Gaussian); the average is linear, so it can be added to the total
            draws = 1 if mode == "central" else len(STANDARD.clusters(s.params, r))
            e = rng.normal(0.0, sigma, size=(draws, w.size)).sum(axis=0)
            noise_sq += float(e @ e) / cfg.n_c**2
            total += e
        w = w + cfg.eta * total / cfg.n_c
        t += float(s.durations.max()) * np.exp(0.1 * rng.standard_normal()) + 2 * cfg.latency
        curve.append((t, r + 1, s.model.accuracy(w, s.data.x_test, s.data.y_test)))
    releases = {c: cfg.rounds for c in range(cfg.n_c)}
    name = {"none": "fedavg", "central": "central-dp", "per-cluster": "per-cluster-dp"}[mode]
    extra = {}
    if mode != "none":
        predicted = (
            noise_price.predicted_std_central(s.z_central, cfg.clip, cfg.n_c)
            if mode == "central"
            else noise_price.predicted_std_per_cluster(s.z_central, cfg.clip, cfg.n_c, cfg.n_a)
        )
        measured = float(np.sqrt(noise_sq / (cfg.rounds * w.size)))
        extra["noise"] = noise_price.NoiseMeasure(name, predicted, measured, 1.0, 1.0, cfg.rounds)
    z = s.z_central if mode != "none" else None
    return RunResult(name, cfg.partition, curve, releases, z, cfg.delta, extra=extra)


def asfl_rules(cfg: TrainConfig) -> Rules:
    """The protocol's rule table: `STANDARD`, or `MAC_A1` when A1 is realised by MACs."""
    if cfg.a1 == "ideal":
        return STANDARD
    if cfg.a1 == "mac":
        from .mac_rules import MAC_A1

        return MAC_A1
    raise ValueError(f"unknown A1 realisation {cfg.a1!r}; choose ideal or mac")


def run_method(s: Setup, method: str, on_step=None) -> RunResult:
    if method == "fedavg":
        return run_fedavg(s, private=False)
    if method == "central-dp":
        return run_fedavg(s, private="central")
    if method == "per-cluster-dp":
        return run_fedavg(s, private="per-cluster")
    if method == "asfl":
        return run_asfl(s, asfl_rules(s.cfg), on_step=on_step)
    if method == "asfl-paced":
        return run_asfl(s, PACED, on_step=on_step)
    if method == "asfl-no-inclusion":
        return run_asfl(s, NO_INCLUSION, on_step=on_step)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
