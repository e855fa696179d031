"""Mutant: the reconstruction threshold T = t_a + 1 (enough for Q1, too small for Q2)."""

NAME = "threshold-t_a+1"
DESCRIPTION = "reconstruction threshold T = t_a + 1: two sets of one (round, cluster) can both be endorsed"
THRESHOLD = "t_a + 1"
