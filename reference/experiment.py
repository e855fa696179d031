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
                   the same z, the same cap Q, spent evenly, so every round averages data
  asfl-no-inclusion the same protocol and noise without the inclusion mechanism, the
                   `NO_INCLUSION` rule table below

The server step of every ASFL method (`step_schedule`, `server_step="data"`): round r's step is
eta f_r / f_max^2, f_r the round's expected data fraction (`expected_data_fractions`: the run's own
I2 rule applied to public parameters only) and f_max the largest. So eta is a step per data
contribution where the most data is expected (every round of the synchronous baselines, ASFL's
rounds while the quota lasts, the paced rule's data rounds at Q/(R-3)), and a round expected to
carry noise only does not move the model. `server_step="constant"` is one step in every round,
eta (eta / (Q/(R-3)) for the paced rule): the figures before 2026-12-06. docs/reference.md, "The
server step of a round that carries no data", has the argument.

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
#: how the ASFL averager scales eta per round (`step_schedule`)
SERVER_STEPS = ("data", "constant")


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
    server_step: str = "data"  # one of SERVER_STEPS: ASFL's step per round (`step_schedule`)


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


def expected_data_fractions(params: Params, rules: Rules) -> tuple[float, ...]:
    """f_r for r = 0..R-1: the expected share of round r's members whose contribution carries data,
    from public parameters only. Model: a coordinator fixes its set once m of its k members
    contributed (I4), so each client is taken into its round-r set with probability m/k (k its
    cluster's size that round), independently of other rounds; it then carries data as the run's
    own I2 rule (`rules.i2_releases_data`) says given its count so far (no take-back, no carry-over).
    Never a client's actual count: that is its own state (I2), and which contributions carry data
    is what the mask hides. With m = k the model is exact for a run in which every client makes
    every round; for the standard rule f_r is then 1 while r < Q and 0 after."""
    assert params.Q is not None and params.m is not None
    quota, rounds = params.Q, params.R
    sizes = [{c: len(S) for S in rules.clusters(params, r) for c in S} for r in range(rounds)]
    taken = np.zeros(rounds)
    carried = np.zeros(rounds)
    for c in range(params.n_c):
        dist = np.zeros(rounds + 1)  # P(c has released j times before round r), j = 0..R
        dist[0] = 1.0
        for r in range(rounds):
            p = min(1.0, params.m / sizes[r][c])
            releases = np.array([rules.i2_releases_data(j, quota, r, rounds, c) for j in range(r + 1)])
            moved = np.zeros(rounds + 1)
            moved[: r + 1] = p * dist[: r + 1] * releases
            taken[r] += p
            carried[r] += moved.sum()
            dist = dist - moved
            dist[1:] += moved[:-1]
    return tuple(float(x) for x in carried / taken)


def step_schedule(params: Params, rules: Rules, server_step: str = "data") -> tuple[float, ...]:
    """The factor of eta in round r's server step: f_r / f_max^2, f_r the round's expected data
    fraction (`expected_data_fractions`) and f_max the largest. Every round's averaged update
    carries the same noise (K cluster sums of sigma^2, P7) and, in expectation, f_r times the mean
    data update, so weights proportional to f_r maximise the signal-to-noise ratio of the sum of
    steps (the matched filter); a round that is expected to carry noise only does not move the model.
    Dividing by f_max^2 keeps eta a step per data contribution in the rounds that carry the most
    (1 under the standard rule while the quota lasts, 1/(Q/(R-3)) under the paced rule, and 1 in
    every round of a rule without a quota, as for the synchronous baselines). A function of public
    parameters, so every client replaying a proof (P4) computes the same model. "constant": the
    step before 2026-12-06, the same in every round (1, or 1 / `paced_data_fraction` for the
    paced rule)."""
    if server_step not in SERVER_STEPS:
        raise ValueError(f"unknown server step {server_step!r}; choose one of {', '.join(SERVER_STEPS)}")
    assert params.Q is not None
    if server_step == "constant":
        paced = rules.i2_releases_data is PACED.i2_releases_data
        return (1.0 / paced_data_fraction(params.Q, params.R) if paced else 1.0,) * params.R
    fractions = expected_data_fractions(params, rules)
    peak = max(fractions)
    return tuple(f / peak**2 for f in fractions)


def make_domain(s: Setup, rules: Rules) -> TrainingDomain:
    """The training domain; with the `MAC_A1` rules, the one whose shares carry MAC tags."""
    from .mac_rules import MacTrainingDomain

    cls = MacTrainingDomain if rules.name == "mac-a1" else TrainingDomain
    cfg = s.cfg
    training = LocalTraining(cfg.lr, cfg.epochs, cfg.batch)
    steps = step_schedule(s.params, rules, cfg.server_step)
    return cls(s.params, cfg.seed, s.model, s.data, s.parts, training, steps)


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
    world = initial_world(s.params, domain, byz, rules)
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
