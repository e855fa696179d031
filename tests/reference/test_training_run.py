"""The training simulator driving the spec: inclusion (I2, P6), Byzantine strategies (A1, P4),
replay of a recorded run, and the training domain's values (section 4)."""

import json
from dataclasses import replace

import numpy as np
import pytest
from asfl.reference import recording
from asfl.reference.experiment import NO_INCLUSION, TrainConfig, run_asfl, run_method, setup
from asfl.reference.field import decode
from asfl.reference.field_domain import Vec
from asfl.reference.prg import derive_key, uniform_field
from asfl.reference.training_domain import LocalTraining, TrainingDomain
from asfl.spec.domain import Label
from asfl.spec.rules import STANDARD

# m = 2 of clusters of 4: a round waits for the faster half, so speeds matter (asynchrony)
SMALL = TrainConfig(rounds=12, n_c=16, m=2, quota=2, epochs=1, seed=1, epsilon=4.0)


@pytest.fixture(scope="module")
def small():
    return setup(SMALL)


@pytest.fixture(scope="module")
def runs(small):
    return {
        name: run_asfl(small, STANDARD, strategy=name)
        for name in ("silent", "wrong-share-sums", "forged-model")
    }


def test_inclusion_balances_epsilon_and_its_absence_does_not(small, runs):
    asfl = runs["silent"]
    assert asfl.finished
    eps = asfl.epsilons()
    assert len(eps) == SMALL.n_c - SMALL.crashes
    assert max(eps.values()) <= SMALL.epsilon + 1e-9  # I2: the quota caps every budget
    assert asfl.epsilon_spread() <= 0.10
    plain = run_asfl(small, NO_INCLUSION)
    assert plain.finished
    assert plain.epsilon_spread() >= 0.3
    assert max(plain.epsilons().values()) > 1.5 * SMALL.epsilon  # fast clients overspend


def test_byzantine_strategies_do_not_change_what_correct_clients_accept(runs):
    silent = runs["silent"].extra["des"]
    for name in ("wrong-share-sums", "forged-model"):
        res = runs[name].extra["des"]
        assert res.injected > 0, name
        assert res.accepted == silent.accepted, name
        assert recording.certified_sets(res.world) == recording.certified_sets(silent.world)
    # refused by A1, or for arriving after the coordinator already sent CLUSTER
    wrong = runs["wrong-share-sums"].extra["refused"]
    assert wrong.get("A1", 0) > 0 and set(wrong) <= {"A1", "coordinator"}
    assert set(runs["forged-model"].extra["refused"]) <= {"P4 model proof", "step 1"}
    assert runs["forged-model"].extra["refused"].get("P4 model proof", 0) > 0


def test_a_recorded_run_replays_and_a_tampered_one_does_not(small, runs, tmp_path):
    res = runs["wrong-share-sums"].extra["des"]
    rec = recording.record(SMALL, "asfl", "wrong-share-sums", res)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(rec))
    loaded = json.loads(path.read_text())
    assert recording.check_replay(loaded) == []
    # drop the first training completion (its contribution fixes a round-0 set): the replayed run
    # differs (the last one may be a late contribution that changes nothing recorded)
    first_train = min(k for k, e in enumerate(loaded["events"]) if "train" in e)
    del loaded["events"][first_train]
    try:
        problems = recording.check_replay(loaded)
    except Exception as e:  # an event that is no longer enabled is a difference too
        problems = [repr(e)]
    assert problems


def test_training_domain_values_are_real_clipped_updates(small):
    p = small.params
    dom = TrainingDomain(p, 1, small.model, small.data, small.parts, LocalTraining(0.1, 1, 16))
    w = dom.genesis_model()
    x = dom.data(3, 0, w)
    u = decode(x.a, p.scale, p.q)
    assert np.linalg.norm(u) <= p.clip + 1e-3
    np.testing.assert_allclose(u, dom.raw_update(3, 0, w), atol=1 / p.scale)
    assert np.linalg.norm(u) > 0.1  # real training happened
    noise = decode(dom.noise(3, 0, 0.25).a, p.scale, p.q)
    assert abs(noise.std() - 0.5) < 0.1
    # pads: AES-CTR, a function of the label only
    assert dom.draw(Label("pad", 1, 0)) == dom.draw(Label("pad", 1, 0))
    assert dom.draw(Label("pad", 1, 0)) != dom.draw(Label("pad", 1, 1))
    key = derive_key(dom.secret, "pad", 1, 0, 0)
    np.testing.assert_array_equal(dom.draw(Label("pad", 1, 0)).a, uniform_field(key, p.d, p.q))


def test_baselines_run_and_central_dp_is_calibrated(small):
    plain = run_method(small, "fedavg")
    central = run_method(small, "central-dp")
    assert plain.accuracy > 0.85
    assert max(central.epsilons().values()) == pytest.approx(SMALL.epsilon, abs=1e-6)


def test_two_byzantine_aggregators_of_seven_change_nothing_correct_clients_accept():
    s = setup(TrainConfig(n_c=21, n_a=7, t_a=2, rounds=3, quota=2, epochs=1))
    runs = {
        name: run_asfl(s, STANDARD, strategy=name) for name in ("silent", "wrong-share-sums", "forged-model")
    }
    base = runs["silent"].extra["des"]
    assert base.finished and len(runs["silent"].byzantine) == 2
    for name in ("wrong-share-sums", "forged-model"):
        res = runs[name].extra["des"]
        # injections were refused (some were still in flight when the run ended)
        assert 0 < sum(res.refused.values()) <= res.injected
        assert res.accepted == base.accepted
        assert recording.certified_sets(res.world) == recording.certified_sets(base.world)


def test_mac_realisation_of_a1_runs_the_same_protocol_and_catches_wrong_share_sums(small, runs):
    """MAC_A1 (mac_rules.py) replaces the ideal A1 predicate with the linear MACs: honest share-sums
    verify (same certified sets and accepted models as the ideal run), and a wrong share-sum that
    keeps the honest tag-sums is refused by A1."""
    from asfl.reference.mac_rules import MAC_A1

    mac = run_asfl(small, MAC_A1, strategy="wrong-share-sums")
    res, ideal = mac.extra["des"], runs["silent"].extra["des"]
    assert res.finished
    assert res.accepted == ideal.accepted
    assert recording.certified_sets(res.world) == recording.certified_sets(ideal.world)
    assert res.refused.get("A1", 0) > 0
    from asfl.reference.mac_rules import TaggedVec
    from asfl.spec.messages import UnmaskReq

    reqs = [e.msg for e in res.world.coalition_inbox if isinstance(e.msg, UnmaskReq)]
    assert reqs and all(isinstance(s.share, TaggedVec) for m in reqs for c in m.contribs for s in c.sealed)


def test_without_a1_a_wrong_share_sum_changes_what_clients_accept(small, runs):
    """The ablation that shows the Byzantine tests can fail: accept every share-sum, and the same
    adversary corrupts certified results and the models correct clients accept."""
    lax = replace(STANDARD, name="no-a1", share_sum_verifies=lambda ctx, contribs, ss: True)
    res = run_asfl(small, lax, strategy="wrong-share-sums").extra["des"]
    assert res.accepted != runs["silent"].extra["des"].accepted


def test_no_byzantine_present_keeps_the_t_a_quorums(small, runs):
    """`byzantine="none"`: t_a is tolerated but every aggregator is correct; the crashes drawn are
    the same and every model still averages n_a - t_a clusters."""
    res = run_asfl(small, STANDARD, strategy="none")
    assert res.finished and res.byzantine == () and runs["silent"].byzantine
    world = res.extra["des"].world
    p = small.params
    for agg in world.aggregators:
        assert agg is not None and agg.model_round == p.R
        assert all(len(chosen) == p.n_a - p.t_a for chosen in agg.proof)


def test_experiment_defaults_use_the_params_quota_and_fit_many_clients():
    s = setup(TrainConfig(n_c=16, m=2, rounds=7, epochs=1))
    # the Params default max(1, (R-2)*m//k_max) since F5; the earlier (R-1)*m//k_max would give 3
    assert s.params.Q == (7 - 2) * 2 // 4 == 2
    # cross-device: more clients than 5 samples each allows still gives every client a sample
    many = setup(TrainConfig(n_c=1000, rounds=2, epochs=1, partition="dirichlet"))
    sizes = [len(p) for p in many.parts]
    assert len(sizes) == 1000 and min(sizes) >= 1 and sum(sizes) == len(many.data.y_train)


def test_paced_quota_spreads_data_over_the_run_with_the_same_balance(small, runs):
    """`asfl-paced` (the spec's PACED table): the standard rule spends the quota in the first rounds
    and the late rounds average noise only; the paced one releases data in late rounds too, every
    client still ends at Q, and the server step is eta per data contribution where the most data
    is expected. Its record replays."""
    from asfl.reference.experiment import expected_data_fractions, step_schedule
    from asfl.spec.rules import PACED

    def data_rounds(rules):
        seen: set[tuple[int, int]] = set()

        def on_step(world, now):
            for st in world.clients:
                seen.update((st.c, r) for r, o in st.outstanding.items() if o.with_data)

        res = run_asfl(small, rules, on_step=on_step)
        return res, {r for _, r in seen}

    standard, std_rounds = data_rounds(STANDARD)
    paced, paced_rounds = data_rounds(PACED)
    assert paced.finished and set(paced.releases.values()) == {SMALL.quota}
    assert paced.epsilon_spread() == standard.epsilon_spread() == 0.0
    late = set(range(SMALL.rounds // 2, SMALL.rounds))
    assert not std_rounds & late  # Q=2 of 12 rounds: the standard rule is done by mid-run
    assert len(paced_rounds & late) >= 3
    steps, fractions = step_schedule(small.params, PACED), expected_data_fractions(small.params, PACED)
    peak = max(range(SMALL.rounds), key=fractions.__getitem__)
    assert steps[peak] == pytest.approx(1 / fractions[peak])  # eta per data contribution there
    assert step_schedule(small.params, STANDARD)[0] == 1.0
    rec = recording.record(SMALL, "paced", "silent", paced.extra["des"])
    assert recording.check_replay(json.loads(json.dumps(rec))) == []


def test_expected_data_fractions_follow_the_i2_rule_and_public_parameters_only():
    """With m = k (every member in every set) the model is exact: the standard rule carries data in
    rounds 0..Q-1 and noise only after, the paced rule spreads the same n_c Q releases over
    rounds 0..R-1-PACE_SLACK, a rule without a quota carries data every round. With m < k the
    expectation matches a simulation of the model (each member taken with probability m/k)."""
    from asfl.reference.experiment import expected_data_fractions
    from asfl.spec.inclusion import PACE_SLACK, i2_releases_data
    from asfl.spec.params import Params
    from asfl.spec.rules import PACED

    exact = Params(n_c=12, n_a=3, t_c=0, t_a=0, m=4, Q=3, R=9)
    assert expected_data_fractions(exact, STANDARD) == (1.0,) * 3 + (0.0,) * 6
    assert expected_data_fractions(exact, NO_INCLUSION) == (1.0,) * 9
    paced = expected_data_fractions(exact, PACED)
    slots = exact.R - PACE_SLACK
    assert sum(paced) == pytest.approx(exact.Q) and paced[slots:] == (0.0,) * PACE_SLACK
    assert max(paced) < 1.0

    lossy = replace(exact, m=2)  # sets of 2 of 4: a member is taken with probability 1/2
    rng = np.random.default_rng(0)
    trials, carried, taken = 4000, np.zeros(lossy.R), np.zeros(lossy.R)
    released = np.zeros((trials, lossy.n_c), dtype=int)
    for r in range(lossy.R):
        take = rng.random((trials, lossy.n_c)) < 0.5
        data = take & (released < 3)  # the standard rule, i2_releases_data
        assert all(i2_releases_data(j, 3, r, lossy.R, 0) == (j < 3) for j in range(lossy.R))
        released += data
        carried[r], taken[r] = data.sum(), take.sum()
    np.testing.assert_allclose(expected_data_fractions(lossy, STANDARD), carried / taken, atol=0.02)


def test_the_server_step_follows_the_schedule_and_clients_replay_it(small):
    """The domain's step of round r is eta * steps[r] (the model says its round); a step of 0 leaves
    the model as it was; a model that does not say its round is refused. A run with the matched
    step is accepted by the clients (P4 replays it from the proof) and differs from the constant
    step's run where the schedule is below 1, with the same sets certified."""
    from asfl.reference.experiment import step_schedule

    p = small.params
    steps = [1.0, 0.0, 0.5] + [1.0] * (p.R - 3)
    dom = TrainingDomain(p, 1, small.model, small.data, small.parts, LocalTraining(0.1, 1, 16), steps)
    w0 = dom.genesis_model()
    total = dom.data(3, 0, w0)
    u = decode(total.a, p.scale, p.q)
    w1 = dom.apply_update(w0, total, 2)
    w2 = dom.apply_update(w1, total, 2)
    w3 = dom.apply_update(w2, total, 2)
    assert (w1.round, w2.round, w3.round) == (1, 2, 3)
    np.testing.assert_allclose(w1.a - w0.a, p.eta * u / 2)
    np.testing.assert_array_equal(w2.a, w1.a)
    np.testing.assert_allclose(w3.a - w2.a, 0.5 * p.eta * u / 2)
    with pytest.raises(ValueError, match="round"):
        dom.apply_update(Vec(w0.a), total, 2)
    with pytest.raises(ValueError, match="steps"):
        TrainingDomain(p, 1, small.model, small.data, small.parts, steps=[1.0, -1.0] + [1.0] * (p.R - 2))

    assert min(step_schedule(p, STANDARD)) < 1.0
    matched = run_asfl(small, STANDARD)
    constant = run_asfl(setup(replace(SMALL, server_step="constant")), STANDARD)
    assert matched.finished and constant.finished
    assert matched.extra["des"].accepted != constant.extra["des"].accepted

    # the step changes the models, never the timing: the same sets are certified (their sums differ)
    def sets(res):
        return [entry[:3] for entry in recording.certified_sets(res.extra["des"].world)]

    assert sets(matched) == sets(constant)
