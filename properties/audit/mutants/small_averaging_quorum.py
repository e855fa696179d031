"""Mutant: an aggregator averages as soon as n_a - 3*t_a clusters are certified."""

NAME = "small-averaging-quorum"
DESCRIPTION = "aggregators average n_a - 3*t_a certified clusters, so two correct models may share none"


def small_quorum(params):
    return max(1, params.n_a - 3 * params.t_a)


RULES = {"averaging_quorum": small_quorum}
