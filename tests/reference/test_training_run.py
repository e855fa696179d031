"""The training simulator driving the spec: inclusion (I2, P6), Byzantine strategies (A1, P4),
replay of a recorded run, and the training domain's values (section 4)."""

import json

import numpy as np
import pytest
from asfl.reference import recording
from asfl.reference.experiment import NO_INCLUSION, TrainConfig, run_asfl, run_method, setup
from asfl.reference.field import decode
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
    from dataclasses import replace

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
    client still ends at Q, and the server step is eta per data contribution. Its record replays."""
    from asfl.reference.experiment import run_params
    from asfl.spec.inclusion import PACE_SLACK
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
    slots = SMALL.rounds - PACE_SLACK
    assert run_params(small, PACED).eta == pytest.approx(SMALL.eta * slots / SMALL.quota)
    assert run_params(small, STANDARD) is small.params
    rec = recording.record(SMALL, "paced", "silent", paced.extra["des"])
    assert recording.check_replay(json.loads(json.dumps(rec))) == []
