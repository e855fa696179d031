"""Mutant: clients scale their noise for a full cluster (k members) instead of the minimum m."""

NAME = "noise-not-scaled"
DESCRIPTION = "noise variance sigma^2/k_max instead of sigma^2/m, so a set of m carries less than sigma^2"


def full_cluster_noise(params):
    return params.sigma**2 / max(params.k)


RULES = {"noise_variance": full_cluster_noise}
