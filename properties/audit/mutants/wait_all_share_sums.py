"""Mutant: the coordinator waits for a share-sum from every aggregator before CLUSTER."""

NAME = "wait-all-share-sums"
DESCRIPTION = "the coordinator waits for all n_a share-sums, so one silent aggregator blocks it"


def all_share_sums(params, sums):
    return len(sums) >= params.n_a


RULES = {"cluster_ready": all_share_sums}
