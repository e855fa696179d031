"""Each attack is reached on the correct protocol and stopped by the rule that exists for it.

A property that holds only because the adversary never reached the attack would be a bug of the
adversary: these tests show the attack happens and name the rule that refuses it.
"""

from __future__ import annotations

import pytest
from asfl.properties.adversaries import ADVERSARIES, mixed
from asfl.properties.explore import Setup
from asfl.properties.runner import find_run, refused_rules
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
        ("self_certified", "P4 model proof"),  # a result only the coalition signed (Q6)
    ],
)
def test_attack_is_reached_and_refused(adversary: str, rule: str) -> None:
    setup = Setup(PARAMS, adversaries=(adversary,), swarm=False, max_chaos=250)
    ex = find_run(setup, lambda ex: rule in refused_rules(ex), max_examples=60)
    assert ex is not None, f"the {adversary} adversary never met the rule {rule}"
    assert adversary in ex.plan.adversaries


def test_selective_coordinator_gets_its_cluster_certified() -> None:
    """The coordinator adversary really coordinates: a cluster of a Byzantine coordinator is certified."""

    def byz_cluster_certified(ex) -> bool:
        return any(i in ex.run.world.byzantine for (_r, i, _s, _a) in ex.run.monitor.certified_by)

    setup = Setup(PARAMS, adversaries=("coordinator",), swarm=False, max_chaos=150)
    assert find_run(setup, byz_cluster_certified, max_examples=60) is not None


def test_silent_offers_nothing_and_mixed_unites() -> None:
    from asfl.properties.symbolic import SymbolicDomain
    from asfl.spec import initial_world

    world = initial_world(PARAMS, SymbolicDomain(PARAMS), [0])
    assert ADVERSARIES["silent"](world) == []
    assert mixed(["silent", "replay"])(world) == []
