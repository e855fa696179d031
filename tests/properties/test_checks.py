"""The default configuration (n_c=8, t_c=1, n_a=4, t_a=1, R=4) passes the properties under the
`ci` profile's adversarial exploration, every adversary allowed (swarm testing)."""

from __future__ import annotations

import pytest
from asfl.properties.checks import PROPERTIES, TITLES
from asfl.properties.explore import Setup
from asfl.properties.runner import check_property
from asfl.spec import Params

DEFAULT = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)
HOLDING = ["P1", "P2", "P3", "P4", "P5", "P7", "P8", "P9"]


def test_every_property_is_named_and_documented() -> None:
    assert list(PROPERTIES) == [f"P{k}" for k in range(1, 10)] == list(TITLES)
    for prop, fn in PROPERTIES.items():
        assert fn.__doc__ and fn.__doc__.startswith(prop)


@pytest.mark.parametrize("prop", HOLDING)
def test_default_configuration_holds(prop: str) -> None:
    outcome = check_property(prop, Setup(DEFAULT), max_examples=15)
    assert outcome.held, f"{outcome.violation}"
    assert outcome.examples >= 15


def test_default_configuration_budget_cap() -> None:
    """P6's safety clauses (count <= Q, unmaskable <= count, one unmaskable set per round) hold on
    every explored run; its balance clause is finding F2 (tests/properties/test_findings.py)."""
    from asfl.properties.checks import Run, p6_budget
    from asfl.properties.explore import explore_once
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, derandomize=True, database=None, deadline=None)
    @given(st.data())
    def cap_holds(data: st.DataObject) -> None:
        ex = explore_once(data, Setup(DEFAULT))
        assert p6_budget(Run(ex.run.world, ex.run.monitor)) is None

    cap_holds()
