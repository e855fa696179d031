"""The `malformed` adversary reaches the messages the properties forbid (issue 13): sets the endorse
rule must refuse (a stale contribution, a duplicate), REVEALs short of T, CERTIFYs of another set,
and the correct protocol refuses each of them (or is not fooled: no property fails)."""

from __future__ import annotations

from asfl.properties.adversaries.library import ADVERSARIES, OPT_IN
from asfl.properties.search.runner import find_run, refused_rules
from asfl.properties.search.runs import SearchSetup
from asfl.spec import Params
from asfl.spec.messages import Certify, Reveal, UnmaskReq
from asfl.spec.world import Inject

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3)
SETUP = SearchSetup(PARAMS, adversaries=("malformed",), swarm=False, max_chaos=250)


def _injected(ex) -> list[Inject]:
    return [e for e in ex.events if isinstance(e, Inject)]


def test_malformed_is_opt_in_so_the_default_swarm_draws_are_unchanged():
    assert "malformed" in ADVERSARIES and "malformed" in OPT_IN
    assert "malformed" not in SearchSetup(PARAMS).adversaries


def test_a_duplicate_contribution_in_a_set_is_sent_and_refused():
    def duplicate(ex) -> bool:
        return any(
            isinstance(e.msg, UnmaskReq) and len(e.msg.contribs) != len(e.msg.members) for e in _injected(ex)
        ) and "endorse" in refused_rules(ex)

    assert find_run(SETUP, duplicate, max_examples=60) is not None


def test_a_stale_contribution_and_a_short_reveal_are_sent():
    def stale(ex) -> bool:
        return any(
            isinstance(e.msg, UnmaskReq) and any(c.r != e.msg.r for c in e.msg.contribs)
            for e in _injected(ex)
        )

    def short_reveal(ex) -> bool:
        return any(isinstance(e.msg, Reveal) and len(e.msg.sigs) < PARAMS.T for e in _injected(ex)) and (
            "reveal" in refused_rules(ex)
        )

    assert find_run(SETUP, stale, max_examples=60) is not None
    # a REVEAL short of T goes to the endorsers of the coalition's own requests (here a coordinator's)
    leading = SearchSetup(PARAMS, adversaries=("malformed", "coordinator"), swarm=False, max_chaos=250)
    assert find_run(leading, short_reveal, max_examples=60) is not None


def test_a_certify_of_a_set_without_the_client_reaches_that_client():
    def other_set(ex) -> bool:
        return any(
            isinstance(e.msg, Certify) and e.dst.role == "c" and e.dst.index not in e.msg.members
            for e in _injected(ex)
        )

    assert find_run(SETUP, other_set, max_examples=60) is not None
