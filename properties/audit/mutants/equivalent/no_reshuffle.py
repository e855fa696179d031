"""Mutant: the clusters of round 0 are kept for every round (no reshuffle).

Equivalent under P1-P9, so it is not in the catalogue (finding F5). What the reshuffle buys is
participation, not privacy: a persistent censor keeps the same target in every round, so the
target's data is never in a certified set, yet its release count reaches Q as the protocol's does,
because a contribution that is never resolved keeps counting (I2's count is pessimistic on
purpose: a Byzantine coordinator may unmask a set it never publishes). No property speaks of
certified inclusion, and none could demand it of the protocol as designed: data held by a silent
Byzantine coordinator costs budget without inclusion under the reshuffle too. The kill matrix
once had P6 kill it, through the fair phase's rotation bug (F5), which starved a client of its
turn to train; with the rotation fixed, the count balances either way.
`tests/properties/test_censor.py` keeps the difference it makes: the target's certified inclusion.
"""

from asfl.spec.assignment import clusters

NAME = "no-reshuffle"
DESCRIPTION = "clusters are not reshuffled between rounds, so one coordinator censors the same clients"


def first_round_clusters(params, r):
    return clusters(params, 0)


RULES = {"clusters": first_round_clusters}
