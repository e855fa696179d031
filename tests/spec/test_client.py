from dataclasses import replace

import pytest
from asfl.spec import ProtocolError
from asfl.spec.client import initial_client, on_certify, on_model, on_train_done
from asfl.spec.domain import Label
from asfl.spec.messages import Certify, ModelMsg, Sig, aggregator, certify_payload, client

from .helpers import PARAMS, ctx


def _cert(r, i, members, signer, digest="d"):
    return Certify(
        r, i, frozenset(members), digest, Sig(signer, certify_payload(r, i, frozenset(members), digest))
    )


def test_training_end_sends_one_masked_contribution_to_the_coordinator():
    cx = ctx()
    st, sends = on_train_done(cx, initial_client(cx, 3))
    ((dst, msg),) = sends
    assert dst == aggregator(cx.cluster_of(0, 3))
    assert (msg.r, msg.c, msg.r_model) == (0, 3, 0)
    x = st.outstanding[0].x
    rho = cx.domain.draw(Label("pad", 3, 0))
    assert cx.domain.sub(msg.y, rho) == x  # y = x + rho
    assert len(msg.sealed) == PARAMS.n_a and [s.to for s in msg.sealed] == [0, 1, 2, 3]
    assert st.contributed == {0} and st.released == 1 and st.training is None
    with pytest.raises(ProtocolError) as e:
        on_train_done(cx, st)
    assert e.value.rule == "step 2"


def test_i1_refuses_a_second_contribution_to_a_round():
    cx = ctx()
    st = replace(initial_client(cx, 0), contributed=frozenset({0}))
    with pytest.raises(ProtocolError) as e:
        on_train_done(cx, st)
    assert e.value.rule == "I1"


def test_i2_past_the_quota_the_client_sends_noise_only():
    cx = ctx()
    st = replace(initial_client(cx, 2), released=PARAMS.Q)
    st, _ = on_train_done(cx, st)
    assert st.released == PARAMS.Q
    assert not st.outstanding[0].with_data
    assert st.outstanding[0].x == cx.domain.noise(2, 0, cx.rules.noise_variance(PARAMS))


def test_certificate_including_the_client_keeps_the_release():
    cx = ctx()
    st, _ = on_train_done(cx, initial_client(cx, 3))
    i = cx.cluster_of(0, 3)
    st, out = on_certify(cx, st, aggregator(0), _cert(0, i, {3}, 0))
    assert out == [] and 0 in st.outstanding  # one signature is not a certificate (t_a + 1 = 2)
    st, out = on_certify(cx, st, aggregator(1), _cert(0, i, {3}, 1))
    assert out == [] and 0 not in st.outstanding and st.released == 1


def test_certificate_of_another_set_takes_the_release_back_and_carries_over():
    cx = ctx()
    st, _ = on_train_done(cx, initial_client(cx, 3))
    x = st.outstanding[0].x
    i = cx.cluster_of(0, 3)
    other = cx.clusters(0)[i] - {3}
    st, _ = on_certify(cx, st, aggregator(0), _cert(0, i, other, 0))
    st, out = on_certify(cx, st, aggregator(2), _cert(0, i, other, 2))
    ((dst, carried),) = out
    assert (carried.r, carried.r_model) == (1, 0)  # I3: re-masked for round 1, same model
    assert dst == aggregator(cx.cluster_of(1, 3))
    assert st.outstanding[1].x == x and st.released == 1  # taken back, then released again
    assert st.contributed == {0, 1}


def test_too_stale_contribution_is_not_carried_over():
    params = replace(PARAMS, s_max=0)
    cx = ctx(params)
    st, _ = on_train_done(cx, initial_client(cx, 3))
    i = cx.cluster_of(0, 3)
    other = cx.clusters(0)[i] - {3}
    st, _ = on_certify(cx, st, aggregator(0), _cert(0, i, other, 0))
    st, out = on_certify(cx, st, aggregator(1), _cert(0, i, other, 1))
    assert out == [] and st.released == 0 and st.contributed == {0}


def test_certify_refusals_name_their_rule():
    cx = ctx()
    st, _ = on_train_done(cx, initial_client(cx, 3))
    i = cx.cluster_of(0, 3)
    with pytest.raises(ProtocolError) as e:
        on_certify(cx, st, aggregator(1), _cert(0, i, {3}, 0))  # signer is not the sender
    assert e.value.rule == "signatures"
    with pytest.raises(ProtocolError) as e:
        on_certify(cx, st, aggregator(0), _cert(0, (i + 1) % 4, {3}, 0))
    assert e.value.rule == "I2"


def test_model_acceptance_checks_round_and_proof():
    cx = ctx()
    st = initial_client(cx, 0)
    with pytest.raises(ProtocolError) as e:
        on_model(cx, st, aggregator(0), ModelMsg(0, cx.domain.genesis_model(), ()))
    assert e.value.rule == "step 1"
    with pytest.raises(ProtocolError) as e:
        on_model(cx, st, aggregator(0), ModelMsg(1, cx.domain.genesis_model(), ()))
    assert e.value.rule == "P4 model proof"
    with pytest.raises(ProtocolError) as e:
        on_model(cx, st, client(1), ModelMsg(1, cx.domain.genesis_model(), ()))
    assert e.value.rule == "step 1"


def _noise_round_1_after_a_take_back(cx):
    """Client 3 releases in round 0 (count 1 = Q), contributes noise only to round 1 on model 1,
    then round 0's certificate leaves it out: taken back (count 0), not carried (I1, s_max = 1).
    The F6 situation: round 1's outstanding contribution is noise that I2 would now let be data."""
    st, _ = on_train_done(cx, initial_client(cx, 3))
    st, _ = on_train_done(cx, replace(st, model_round=1, training=1))
    assert not st.outstanding[1].with_data and st.released == PARAMS.Q == 1
    i = cx.cluster_of(0, 3)
    other = cx.clusters(0)[i] - {3}
    for j in (0, 1):
        st, out = on_certify(cx, st, aggregator(j), _cert(0, i, other, j))
    assert out == [] and st.released == 0 and st.contributed == {0, 1}
    return st


def _leave_out_of_round_1(cx, st):
    i = cx.cluster_of(1, 3)
    other = cx.clusters(1)[i] - {3}
    st, _ = on_certify(cx, st, aggregator(0), _cert(1, i, other, 0))
    return on_certify(cx, st, aggregator(1), _cert(1, i, other, 1))


def test_i3_a_noise_only_carry_over_becomes_the_release_a_take_back_allowed():
    """Deviation 15 (finding F6): still on model 1, the client adds its update to the carried noise."""
    cx = ctx()
    st = _noise_round_1_after_a_take_back(cx)
    noise = st.outstanding[1].x
    st, out = _leave_out_of_round_1(cx, st)
    ((dst, carried),) = out
    assert (carried.r, carried.r_model) == (2, 1) and dst == aggregator(cx.cluster_of(2, 3))
    assert st.outstanding[2].with_data and st.released == 1
    assert st.outstanding[2].x == cx.domain.add(cx.domain.data(3, 1, st.model), noise)
    assert cx.domain.sub(carried.y, cx.domain.draw(Label("pad", 3, 2))) == st.outstanding[2].x


def test_i3_a_noise_only_carry_over_gives_way_to_the_training_for_its_round():
    """Deviation 15: on model 2 and training for round 2, the client drops the noise, so its
    training contributes to round 2 with data."""
    cx = ctx()
    st = replace(_noise_round_1_after_a_take_back(cx), model_round=2, training=2)
    st, out = _leave_out_of_round_1(cx, st)
    assert out == [] and st.training == 2 and st.contributed == {0, 1} and st.released == 0
    st, (sent,) = on_train_done(cx, st)
    assert sent[1].r == 2 and st.outstanding[2].with_data and st.released == 1


def test_i3_noise_is_carried_as_sent_while_i2_forbids_a_release():
    cx = ctx()
    st, _ = on_train_done(cx, replace(initial_client(cx, 3), released=PARAMS.Q))
    noise = st.outstanding[0].x
    i = cx.cluster_of(0, 3)
    other = cx.clusters(0)[i] - {3}
    for j in (0, 1):
        st, out = on_certify(cx, st, aggregator(j), _cert(0, i, other, j))
    ((_, carried),) = out
    assert carried.r == 1 and not st.outstanding[1].with_data and st.outstanding[1].x == noise
    assert st.released == PARAMS.Q
