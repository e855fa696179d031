"""Directed search: the adversaries whose attacks go through each rule (issue 6, the audit).

The swarm (search/runs.py) draws one coordinator strategy and a random subset of the other adversaries
per example, so in the 15 examples an audit spends per property, an attack of many steps on one
rule (the serial equivocation of F1, the censor that a reshuffle defeats) is tried two or three
times. A variant that replaces a rule is therefore also searched with the adversaries that exercise
that rule alone (`focus_of`), after the swarm and with the same budget; the audit counts a
violation it finds only where the baseline holds the property under that same directed search.

Rules that every run exercises whatever the coalition does (the pads, the noise, the coordinator's
choice of set) have no focus: the swarm already exercises them in every example.
"""

from __future__ import annotations

from asfl.spec.rules import Rules

#: rule -> the adversaries (properties/adversaries/library.py) whose attacks the rule exists to stop
RULE_FOCUS: dict[str, tuple[str, ...]] = {
    # Q2 write-once endorsement and the S-subset-of-S_i^r check: equivocating coordinators
    "endorse_problem": ("serial_equivocation", "outside_set"),
    "reveal_quorum": ("serial_equivocation", "equivocating"),
    # the reshuffle and I2/I3 are what a censoring coordinator meets
    "clusters": ("censoring",),
    "i2_take_back": ("censoring",),
    # when under the quota a client releases (a paced quota): a censor costs its victim a slot
    "i2_releases_data": ("censoring", "late_censor"),
    # I1 against a carry-over: a censor that waits until its victim contributed to the next round
    "i3_carry_round": ("late_censor",),
    # A1: share-sums that are not what they claim
    "share_sum_verifies": ("wrong_sums",),
    # Q6 / P4: results and models the coalition certified or altered alone
    "certificate_size": ("self_certified", "forged"),
    "model_problem": ("forged", "self_certified", "malformed"),
    # selective CLUSTER sends leave correct aggregators with different certified results
    "relay_cluster": ("coordinator",),
    "averaging_quorum": ("coordinator",),
}

#: properties judged without an adversary (P9: the coalition is silent, runner.setup_for)
UNDIRECTED = frozenset({"P9"})


def focus_of(rules: Rules) -> tuple[str, ...]:
    """The adversaries of the rules a table replaces, without repeats, in the table's order."""
    out: list[str] = []
    for name in rules.replaced():
        out += [a for a in RULE_FOCUS.get(name, ()) if a not in out]
    return tuple(out)


#: spec function ("module.qualname") -> the adversaries whose attacks go through it: a spec diff
#: that changes the function is searched with them too (audit/spec_diff.py), as a table that replaces a
#: rule is with RULE_FOCUS. The rules' own functions are found through the rule table instead.
FUNCTION_FOCUS: dict[str, tuple[str, ...]] = {
    # the client's release bookkeeping and carry-over (I2, I3): what a censor meets
    "client.on_certify": ("malformed", "censoring", "late_censor"),
    "client._send_contribution": ("late_censor", "censoring"),
    "client.on_train_done": ("censoring", "late_censor"),
    "client.on_model": ("forged", "self_certified", "malformed"),
    # the coordinator's set and the endorser's checks (I4, Q2, F1)
    "aggregator.on_contrib": ("censoring", "arbitrary"),
    # not `malformed`: its many offers, drawn in half the runs, left the hasty equivocation too few
    # undiluted runs to meet an endorser that answers before REVEAL (`endorse-reveals-at-once`);
    # its relabelled requests are searched through the checks' focus and the default swarm
    "aggregator.on_unmask_req": ("hasty_equivocation", "equivocating", "serial_equivocation", "outside_set"),
    "aggregator.on_endorsement": ("serial_equivocation", "equivocating", "malformed"),
    "aggregator.on_reveal": ("hasty_equivocation", "malformed"),
    "aggregator.on_share_sum": ("wrong_sums", "malformed"),
    "aggregator.recompute_agg": ("wrong_sums", "forged"),
    "aggregator.on_cluster": ("forged", "wrong_sums", "coordinator", "malformed"),
    "aggregator.on_certify": ("malformed", "self_certified", "coordinator"),
    "aggregator._certified_results": ("self_certified", "coordinator"),
    "aggregator._advance": ("coordinator", "self_certified"),
    # malformed sets and contributions (checks.py) and the signatures of the world
    "checks.members_problem": ("outside_set", "forged", "arbitrary"),
    "checks.contribs_problem": ("malformed", "forged", "arbitrary"),
    "certificates.result_problem": ("forged", "self_certified", "malformed"),
    # the forged MODELs (`malformed`) and the coalition's own certificates; not `forged`, whose
    # forged signatures drowned the proof that averages one result twice (`proof-twice-same-cluster`)
    "certificates.replay_model": ("malformed", "self_certified"),
    "world.forgery": ("forged", "arbitrary", "replay"),
}


def rule_functions(rules: Rules) -> dict[str, str]:
    """ "module.qualname" of each rule's function in `rules` -> the rule's name."""
    out = {}
    for name in rules.names():
        fn = getattr(rules, name)
        out[f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"] = name
    return out


def focus_of_functions(functions: list[str], rules: Rules) -> tuple[str, ...]:
    """The adversaries of the spec functions a diff changes ("module.qualname"), without repeats:
    FUNCTION_FOCUS, and RULE_FOCUS for a function that is a rule of the table."""
    by_function = rule_functions(rules)
    out: list[str] = []
    for f in functions:
        adversaries = FUNCTION_FOCUS.get(f, ()) or RULE_FOCUS.get(by_function.get(f, ""), ())
        out += [a for a in adversaries if a not in out]
    return tuple(out)
