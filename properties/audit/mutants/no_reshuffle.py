"""Mutant: the clusters of round 0 are kept for every round (no reshuffle)."""

from asfl.spec.assignment import clusters

NAME = "no-reshuffle"
DESCRIPTION = "clusters are not reshuffled between rounds, so one coordinator censors the same clients"


def first_round_clusters(params, r):
    return clusters(params, 0)


RULES = {"clusters": first_round_clusters}
