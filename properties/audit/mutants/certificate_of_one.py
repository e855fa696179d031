"""Mutant: one CERTIFY signature certifies a cluster result (Q6 asks for t_a + 1)."""

NAME = "certificate-of-one"
DESCRIPTION = "one CERTIFY signature certifies a result, so a Byzantine aggregator certifies alone"


def one(params):
    return 1


RULES = {"certificate_size": one}
