from dataclasses import replace

import pytest
from asfl.spec import ProtocolError
from asfl.spec.aggregator import on_certify, on_cluster, on_contrib, on_reveal, on_share_sum, on_unmask_req
from asfl.spec.domain import Label
from asfl.spec.messages import (
    Cluster,
    Endorsement,
    ModelMsg,
    Reveal,
    ShareSum,
    Sig,
    UnmaskReq,
    aggregator,
    client,
    intent_payload,
)

from .helpers import PARAMS, contribution, ctx
from .helpers import aggregator as agg_state


def _coordinated(cx, r=0):
    """Coordinator i of a cluster with at least m members, and the contributions of its members."""
    i = next(i for i, s in enumerate(cx.clusters(r)) if len(s) >= 2)
    members = sorted(cx.clusters(r)[i])
    contribs = {c: contribution(cx, c, r) for c in members}
    return i, members, contribs


def test_coordinator_fixes_the_set_at_m_and_refuses_late_and_duplicate():
    cx = ctx()
    i, members, contribs = _coordinated(cx)
    st = agg_state(cx, i)
    _, msg, _ = contribs[members[0]]
    st, out = on_contrib(cx, st, client(members[0]), msg)
    assert st.fixed[0] == {members[0]}  # m = 1
    assert sorted(d.index for d, _ in out) == [0, 1, 2, 3]
    assert all(isinstance(m, UnmaskReq) and m.members == {members[0]} for _, m in out)
    with pytest.raises(ProtocolError) as e:
        on_contrib(cx, st, client(members[0]), msg)
    assert e.value.rule == "I1"
    _, late, _ = contribs[members[1]]
    with pytest.raises(ProtocolError) as e:
        on_contrib(cx, st, client(members[1]), late)
    assert e.value.rule == "I3"


def test_coordinator_refuses_foreign_stale_and_unsigned_contributions():
    cx = ctx()
    i, members, contribs = _coordinated(cx)
    _, msg, _ = contribs[members[0]]
    with pytest.raises(ProtocolError) as e:
        on_contrib(cx, agg_state(cx, (i + 1) % 4), client(members[0]), msg)
    assert e.value.rule == "assignment"
    with pytest.raises(ProtocolError) as e:
        on_contrib(cx, agg_state(cx, i), client((members[0] + 1) % 8), msg)
    assert e.value.rule == "signatures"
    stale = replace(msg, r=0, r_model=-2)
    with pytest.raises(ProtocolError) as e:
        on_contrib(cx, agg_state(cx, i), client(members[0]), stale)
    assert e.value.rule == "I3"


def _unmask_flow(cx):
    i, members, contribs = _coordinated(cx)
    coord = agg_state(cx, i)
    for c in members[:1]:
        coord, reqs = on_contrib(cx, coord, client(c), contribs[c][1])
    req = reqs[0][1]
    return i, members, contribs, coord, req


def _share_sum(cx, j, i, req):
    """Aggregator j endorses req, then releases its share-sum on a REVEAL of T endorsements (F1)."""
    st, ((_, endorsement),) = on_unmask_req(cx, agg_state(cx, j), aggregator(i), req)
    assert isinstance(endorsement, Endorsement)
    sigs = tuple(Sig(k, intent_payload(req.r, req.i, req.members)) for k in range(PARAMS.T))
    _, ((_, ss),) = on_reveal(cx, st, aggregator(i), Reveal(req.r, req.i, req.members, sigs))
    return ss


def test_endorsement_is_write_once_per_round_and_cluster():
    cx = ctx()
    i, members, contribs, coord, req = _unmask_flow(cx)
    j = (i + 1) % 4
    st, out = on_unmask_req(cx, agg_state(cx, j), aggregator(i), req)
    ((dst, endorsement),) = out
    assert dst == aggregator(i) and isinstance(endorsement, Endorsement) and endorsement.sender == j
    ss = _share_sum(cx, j, i, req)
    assert isinstance(ss, ShareSum) and ss.sender == j
    st2, _ = on_unmask_req(cx, st, aggregator(i), req)  # the same set again: idempotent
    assert st2.endorsed == st.endorsed
    other = UnmaskReq(0, i, frozenset({members[1]}), (contribs[members[1]][1],))
    with pytest.raises(ProtocolError) as e:
        on_unmask_req(cx, st, aggregator(i), other)
    assert e.value.rule == "Q2 write-once"
    with pytest.raises(ProtocolError) as e:
        on_unmask_req(cx, agg_state(cx, j), aggregator(j), req)  # not from the coordinator
    assert e.value.rule == "endorse"


def test_share_sums_that_do_not_verify_are_refused_and_T_make_a_cluster():
    cx = ctx()
    i, members, contribs, coord, req = _unmask_flow(cx)
    sums = [_share_sum(cx, j, i, req) for j in range(4)]
    bad = replace(sums[0], total=cx.domain.add(sums[0].total, cx.domain.draw(Label("pad", 99, 0))))
    with pytest.raises(ProtocolError) as e:
        on_share_sum(cx, coord, aggregator(0), bad)
    assert e.value.rule == "A1"
    out = []
    for ss in sums[:3]:
        coord, out = on_share_sum(cx, coord, aggregator(ss.sender), ss)
    assert len(out) == 4 and all(isinstance(m, Cluster) for _, m in out)
    cluster = out[0][1]
    assert len(cluster.sums) == PARAMS.T
    with pytest.raises(ProtocolError):
        on_share_sum(cx, coord, aggregator(3), sums[3])  # CLUSTER already sent


def test_certifier_recomputes_the_exact_sum_of_member_values_P1():
    cx = ctx()
    i, members, contribs, coord, req = _unmask_flow(cx)
    for j in range(3):
        coord, out = on_share_sum(cx, coord, aggregator(j), _share_sum(cx, j, i, req))
    cluster = out[0][1]
    st, sends = on_cluster(cx, agg_state(cx, 2), aggregator(i), cluster)
    ((key, agg),) = st.results.items()
    expected = cx.domain.zero()
    for c in cluster.members:
        expected = cx.domain.add(expected, contribs[c][2])
    assert agg == expected
    cert_targets = {d for d, _ in sends}
    assert {aggregator(k) for k in range(4)} <= cert_targets
    assert {client(c) for c in cx.clusters(0)[i]} <= cert_targets
    with pytest.raises(ProtocolError):
        on_cluster(cx, st, aggregator(i), cluster)  # certified once
    forged = replace(cluster, sums=(replace(cluster.sums[0], total=cx.domain.zero()),) + cluster.sums[1:])
    with pytest.raises(ProtocolError) as e:
        on_cluster(cx, agg_state(cx, 2), aggregator(i), forged)
    assert e.value.rule == "A1"
    # F3: a CLUSTER is self-verifying, so it is accepted from any aggregator (relay), never from a client
    relayed, _ = on_cluster(cx, agg_state(cx, 2), aggregator((i + 1) % 4), cluster)
    assert relayed.results == st.results
    with pytest.raises(ProtocolError) as e:
        on_cluster(cx, agg_state(cx, 2), client(0), cluster)
    assert e.value.rule == "certify"


def test_averager_waits_for_n_a_minus_t_a_certified_clusters_then_sends_the_model():
    cx = ctx()
    clusters_msgs = []
    for i, members in enumerate(cx.clusters(0)):
        c = min(members)
        coord = agg_state(cx, i)
        coord, reqs = on_contrib(cx, coord, client(c), contribution(cx, c)[1])
        req = reqs[0][1]
        for j in range(3):
            ss = _share_sum(cx, j, i, req)
            coord, out = on_share_sum(cx, coord, aggregator(j), ss)
        clusters_msgs.append(out[0][1])
    st = agg_state(cx, 0)
    certifies = []
    for cl in clusters_msgs[:3]:
        for signer in (1, 2):
            _, sends = on_cluster(cx, agg_state(cx, signer), aggregator(cl.i), cl)
            certifies.append(next(m for d, m in sends if d == aggregator(0)))
        st, _ = on_cluster(cx, st, aggregator(cl.i), cl)
    models = []
    for k, cert in enumerate(certifies):
        st, out = on_certify(cx, st, aggregator(cert.sig.signer), cert)
        models += [m for _, m in out if isinstance(m, ModelMsg)]
        if k < len(certifies) - 1:
            assert st.model_round == 0  # not yet n_a - t_a = 3 certified clusters
    assert st.model_round == 1 and len(models) == PARAMS.n_c
    assert [res.i for res in st.proof[0]] == [0, 1, 2]
    assert cx.rules.model_problem(cx, models[0]) is None
    with pytest.raises(ProtocolError) as e:
        on_certify(cx, st, aggregator(1), certifies[0])
    assert e.value.rule == "average"
