"""Issue 6: the Byzantine mutants of the catalogue are killed at the audit's budget (15 examples,
`ci` profile, default configuration), each by the property its mistake really breaks, and the
baseline holds that property under the same budget (a kill counts only then)."""

from __future__ import annotations

from functools import cache

import pytest
from asfl.properties.audit import BASELINE, MUTANTS_DIR
from asfl.properties.explore import Setup
from asfl.properties.runner import check_property
from asfl.properties.variant_file import load
from asfl.spec import Params

BASE = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
BUDGET = 15

KILLS = [
    ("endorse_twice", "P3"),  # serial equivocation: share-sums of three sets of one cluster (F1)
    # threshold_t_a_plus_1 / P2 is pinned at the default R=4 by test_audit's matrix; at R=3 its kill
    # here depended on what ran before it in the process (passes alone, failed after test_audit)
    ("certificate_of_one", "P4"),  # a MODEL whose results only the coalition certified
    ("small_averaging_quorum", "P8"),  # two correct models averaged over no shared correct cluster
]


@cache
def baseline_holds(prop: str) -> bool:
    return check_property(prop, Setup(BASE, BASELINE.rules), max_examples=BUDGET, shrink_budget=0.5).held


@pytest.mark.parametrize(("mutant", "prop"), KILLS, ids=[m for m, _ in KILLS])
def test_property_kills_the_mutant_where_the_baseline_holds(mutant: str, prop: str) -> None:
    variant = load(MUTANTS_DIR / f"{mutant}.py")
    outcome = check_property(
        prop, Setup(variant.apply(BASE), variant.rules), max_examples=BUDGET, shrink_budget=0.5
    )
    assert not outcome.held, f"{variant.name} survived {prop}"
    assert baseline_holds(prop), f"the baseline fails {prop} at {BUDGET} examples: not a kill"


def test_outside_set_kills_unchecked_set_where_the_baseline_holds() -> None:
    """unchecked-set: the outside_set adversary unmasks each member alone under another round's
    (r, i) slot (P3). The default swarm at 15 examples does not reach it yet (2 of 5 seeds do), so
    this pins the attack itself: the adversary alone, same budget, mutant against baseline."""
    variant = load(MUTANTS_DIR / "unchecked_set.py")
    only = dict(adversaries=("outside_set",), swarm=False)
    killed = check_property(
        "P3", Setup(variant.apply(BASE), variant.rules, **only), max_examples=BUDGET, shrink_budget=0.5
    )
    assert not killed.held
    assert check_property("P3", Setup(BASE, BASELINE.rules, **only), max_examples=BUDGET).held


def test_late_censor_kills_no_round_cap_where_the_baseline_holds(tmp_path) -> None:
    """no-round-cap: the late censor (default configuration, R=4) certifies a client out of round r
    only once it holds the client's round-(r+1) CONTRIB; the carry-over that ignores I1 re-masks the
    round-r value with the pad of (c, r+1) and sends it to the same coordinator, whose two CONTRIBs
    differ by a function of the client's data (P3). The late censor is opt-in (not in the default
    swarm): the audit's focus on rule i3_carry_round names it. Its trace records the persistent
    strategy and re-judges to the same violation."""
    from asfl.properties import traces
    from asfl.properties.runner import judge_trace

    params = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)
    variant = load(MUTANTS_DIR / "no_round_cap.py")
    only = dict(adversaries=("late_censor",))
    killed = check_property(
        "P3", Setup(variant.apply(params), variant.rules, **only), max_examples=BUDGET, shrink_budget=1.0
    )
    assert not killed.held
    assert killed.trace.extra["persistent_censor"] == "late_censor"
    traces.register_rules(variant.rules)
    again = traces.read_itf(traces.write_itf(tmp_path / "P3.itf.json", killed.trace))
    assert judge_trace(again) is not None
    assert check_property("P3", Setup(params, BASELINE.rules, **only), max_examples=BUDGET).held
