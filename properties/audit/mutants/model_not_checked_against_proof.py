"""Mutant: a client checks a MODEL's proof but not that the model is the average it certifies."""

from asfl.spec.certificates import replay_model

NAME = "model-not-checked-against-proof"
DESCRIPTION = "clients verify a MODEL's certificates but not that w is their average (P4)"


def proof_only(ctx, msg):
    if len(msg.proof) != msg.r:
        return f"proof covers {len(msg.proof)} rounds, model is of round {msg.r}"
    _w, problem = replay_model(ctx, msg.proof)
    return problem


RULES = {"model_problem": proof_only}
