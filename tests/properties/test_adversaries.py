"""Each attack is reached on the correct protocol and stopped by the rule that exists for it.

A property that holds only because the adversary never reached the attack would be a bug of the
adversary: these tests show the attack happens and name the rule that refuses it.
"""

from __future__ import annotations

import pytest
from asfl.properties.adversaries.library import ADVERSARIES, mixed
from asfl.properties.search.runner import find_run, refused_rules
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)


@pytest.mark.parametrize(
    ("adversary", "rule"),
    [
        ("equivocating", "Q2 write-once"),  # a correct aggregator refuses a second set (Q2)
        ("equivocating", "reveal"),  # no share-sum for a set without T endorsements (F1)
        ("wrong_sums", "A1"),  # a wrong share-sum does not verify (A1)
        ("forged", "P4 model proof"),  # a client refuses a forged or altered MODEL (P4)
        ("forged", "certify"),  # a CLUSTER that dropped a member is not certified
        ("replay", "certify"),  # a replayed CLUSTER or CERTIFY is refused as a duplicate
        ("serial_equivocation", "Q2 write-once"),  # the next set of the cluster is refused (F1)
        ("outside_set", "endorse"),  # a member alone under another round's (r, i) is refused
        ("hasty_equivocation", "reveal"),  # a REVEAL short of T endorsements releases nothing (F1)
        ("self_certified", "P4 model proof"),  # a result only the coalition signed (Q6)
    ],
)
def test_attack_is_reached_and_refused(adversary: str, rule: str) -> None:
    setup = SearchSetup(PARAMS, adversaries=(adversary,), swarm=False, max_chaos=250)
    ex = find_run(setup, lambda ex: rule in refused_rules(ex), max_examples=60)
    assert ex is not None, f"the {adversary} adversary never met the rule {rule}"
    assert adversary in ex.plan.adversaries


def test_selective_coordinator_gets_its_cluster_certified() -> None:
    """The coordinator adversary really coordinates: a cluster of a Byzantine coordinator is certified."""

    def byz_cluster_certified(ex) -> bool:
        return any(i in ex.run.world.byzantine for (_r, i, _s, _a) in ex.run.monitor.certified_by)

    setup = SearchSetup(PARAMS, adversaries=("coordinator",), swarm=False, max_chaos=150)
    assert find_run(setup, byz_cluster_certified, max_examples=60) is not None


def test_silent_offers_nothing_and_mixed_unites() -> None:
    from asfl.properties.domains.symbolic import SymbolicDomain
    from asfl.spec import initial_world

    world = initial_world(PARAMS, SymbolicDomain(PARAMS), [0])
    assert ADVERSARIES["silent"](world) == []
    assert mixed(["silent", "replay"])(world) == []


def test_late_censor_makes_a_carry_over_that_ignores_i1_send_two_contribs_of_one_round() -> None:
    """late_censor, aggregator 2 Byzantine: it coordinates client 0 in rounds 0 ({0, 6}) and 1
    ({0, 3}). Clients 0 and 6 end training first, then delivery is fair and the late censor acts:
    it holds its round-0 set back until it holds client 0's round-1 CONTRIB, then certifies {6}.
    With the carry-over of no-round-cap, client 0 re-masks its round-0 value with the pad of
    (0, 1) and sends it to aggregator 2 as a second CONTRIB of round 1, and the two masked values
    differ by a function of its data (P3); the protocol's I3 carries nothing into a round the
    client contributed to, and every property holds."""
    from pathlib import Path

    from asfl.properties.audit.variant_file import load
    from asfl.properties.judge.suite import PROPERTIES, certified_results
    from asfl.properties.search.runs import Plan, execute
    from asfl.spec import STANDARD
    from asfl.spec.messages import Contrib
    from asfl.spec.world import TrainDone

    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)
    mutant = load(Path(__file__).parents[2] / "properties" / "audit" / "mutants" / "no_round_cap.py")

    def run(rules, p):
        prefix = iter([TrainDone(0), TrainDone(6)])
        plan = Plan((2,), ("late_censor",), False, 2, (), "late_censor")
        return execute(SearchSetup(p, rules), plan, lambda world, kinds: next(prefix)).run

    for rules, p, twice in ((mutant.rules, mutant.apply(params), True), (STANDARD, params, False)):
        r = run(rules, p)
        world = r.world
        assert world.ctx.clusters(0)[2] == {0, 6} and 0 in world.ctx.clusters(1)[2]
        # the late censor censored client 0 in round 0, after client 0 contributed to round 1
        assert [sorted(s) for (rr, i, s, _a) in certified_results(r) if (rr, i) == (0, 2)] == [[6]]
        round1 = [
            e.msg
            for e in world.coalition_inbox
            if isinstance(e.msg, Contrib) and (e.msg.r, e.msg.c) == (1, 0)
        ]
        assert len(round1) == (2 if twice else 1)
        verdicts = {name: check(r) for name, check in PROPERTIES.items()}
        if twice:
            assert round1[0].y != round1[1].y and round1[1].r_model == 0
            assert verdicts["P3"] is not None
        else:
            assert all(v is None for v in verdicts.values()), verdicts


def test_outside_set_asks_the_empty_set_at_m_1() -> None:
    """At m = 1 the only set below m is the empty one: outside_set asks it, so a check of
    |S| >= m is exercised at the default configuration too (issue 13, set-size-unchecked)."""
    from asfl.spec.messages import UnmaskReq
    from asfl.spec.world import Inject

    assert PARAMS.m == 1
    setup = SearchSetup(PARAMS, adversaries=("outside_set",), swarm=False, max_chaos=250)

    def empty_asked(ex) -> bool:
        return any(
            isinstance(e, Inject) and isinstance(e.msg, UnmaskReq) and not e.msg.members for e in ex.events
        ) and "endorse" in refused_rules(ex)

    assert find_run(setup, empty_asked, max_examples=60) is not None


def test_hasty_equivocation_asks_each_endorser_a_different_set_and_reveals_short_of_t() -> None:
    from asfl.spec.messages import Reveal, UnmaskReq
    from asfl.spec.world import Inject

    setup = SearchSetup(PARAMS, adversaries=("hasty_equivocation",), swarm=False, max_chaos=250)

    def hasty(ex) -> bool:
        sent = [e for e in ex.events if isinstance(e, Inject)]
        asked = {(e.msg.r, e.msg.i, e.msg.members) for e in sent if isinstance(e.msg, UnmaskReq)}
        short = [e for e in sent if isinstance(e.msg, Reveal) and len(e.msg.sigs) < PARAMS.T]
        return len({(r, i) for r, i, _ in asked}) < len(asked) and bool(short)

    assert find_run(setup, hasty, max_examples=60) is not None
