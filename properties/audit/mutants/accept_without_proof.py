"""Mutant: a client accepts any newer MODEL without checking its proof."""

NAME = "accept-without-proof"
DESCRIPTION = "clients accept a newer MODEL without verifying its certificates and average"


def no_check(ctx, msg):
    return None


RULES = {"model_problem": no_check}
