"""Mutant: an endorser does not check that UNMASK_REQ comes from the cluster's coordinator.

Equivalent in this model, so it is not in the catalogue (docs/findings.md, "A mutant that cannot be
killed"): endorsers reply to the cluster's coordinator, not to the sender, and only that
coordinator can trigger the reveal; the coalition sees a correct cluster's contributions only
through that coordinator's own UNMASK_REQ, so a foreign sender can only ask for that same set.
"""

from asfl.spec import STANDARD
from asfl.spec.messages import aggregator

NAME = "unchecked-coordinator"
DESCRIPTION = "endorsers answer UNMASK_REQ from any aggregator, not only the cluster's coordinator"


def any_sender_endorse_problem(ctx, j, endorsed, src, msg):
    # pretend every request came from the coordinator of the cluster it names
    return STANDARD.endorse_problem(ctx, j, endorsed, aggregator(msg.i), msg)


RULES = {"endorse_problem": any_sender_endorse_problem}
