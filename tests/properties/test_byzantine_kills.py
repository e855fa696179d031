"""Issue 6: the Byzantine mutants of the catalogue are killed at the audit's budget (15 examples,
`ci` profile, default configuration), each by the property its mistake really breaks, and the
baseline holds that property under the same budget (a kill counts only then)."""

from __future__ import annotations

from functools import cache

import pytest
from asfl.properties.audit.compare import BASELINE, MUTANTS_DIR
from asfl.properties.audit.variant_file import load
from asfl.properties.search.runner import check_property
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params

BASE = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
BUDGET = 15

KILLS = [
    # threshold_t_a_plus_1 / P2 is pinned at the default R=4 by test_audit's matrix; at R=3 its kill
    # here depended on what ran before it in the process (Hypothesis drew literals of the modules
    # loaded: fixed by profiles.stable_draws, but this row stays pinned in one place)
    ("certificate_of_one", "P4"),  # a MODEL whose results only the coalition certified
    ("small_averaging_quorum", "P8"),  # two correct models averaged over no shared correct cluster
]


@cache
def baseline_holds(prop: str) -> bool:
    return check_property(prop, SearchSetup(BASE, BASELINE.rules), max_examples=BUDGET).held


@pytest.mark.parametrize(("mutant", "prop"), KILLS, ids=[m for m, _ in KILLS])
def test_property_kills_the_mutant_where_the_baseline_holds(mutant: str, prop: str) -> None:
    variant = load(MUTANTS_DIR / f"{mutant}.py")
    outcome = check_property(prop, SearchSetup(variant.apply(BASE), variant.rules), max_examples=BUDGET)
    assert not outcome.held, f"{variant.name} survived {prop}"
    assert baseline_holds(prop), f"the baseline fails {prop} at {BUDGET} examples: not a kill"
