"""Mutant: the reconstruction threshold T = t_a (breaks Q1: the coalition alone holds T shares)."""

NAME = "threshold-t_a"
DESCRIPTION = "reconstruction threshold T = t_a: the Byzantine coalition alone reconstructs a client's pad"
THRESHOLD = "t_a"
