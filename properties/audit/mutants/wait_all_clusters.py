"""Mutant: an aggregator averages only once every cluster of the round is certified."""

NAME = "wait-all-clusters"
DESCRIPTION = "aggregators wait for certified results of all n_a clusters before averaging"


def all_clusters(params):
    return params.n_a


RULES = {"averaging_quorum": all_clusters}
