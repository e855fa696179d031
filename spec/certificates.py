"""Certificates and model proofs (PROTOCOL.md sections 5 and 6, client step 1; property P4).

A cluster result is certified by `t_a + 1` CERTIFY signatures from distinct aggregators (Q6: so
at least one correct aggregator verified the share-sums and recomputed agg). A MODEL of round r
carries, for every round k < r, the certified results it averaged; a client recomputes the model
from the genesis model and accepts it only if it matches. [ours] A round of the proof must average
n_a - t_a distinct clusters, as a correct aggregator does, so a Byzantine one cannot pass off the
average of a hand-picked cluster.
"""

from __future__ import annotations

from .checks import members_problem
from .context import Context
from .domain import Model, sum_values
from .messages import CertifiedResult, ModelMsg, certify_payload


def result_problem(ctx: Context, r: int, result: CertifiedResult) -> str | None:
    """Why `result` is not a certified result of round r, or None if it is."""
    problem = members_problem(ctx, r, result.i, result.members)
    if problem:
        return f"cluster {result.i} of round {r}: {problem}"
    payload = certify_payload(r, result.i, result.members, ctx.domain.digest(result.agg))
    signers = {s.signer for s in result.sigs if s.payload == payload}
    need = ctx.rules.certificate_size(ctx.params)
    if len(signers) < need:
        return f"cluster {result.i} of round {r} has {len(signers)} valid CERTIFY signatures, needs {need}"
    return None


def replay_model(
    ctx: Context, proof: tuple[tuple[CertifiedResult, ...], ...]
) -> tuple[Model | None, str | None]:
    """Recompute the model a proof describes, from the genesis model (P4), or say why not."""
    domain = ctx.domain
    quorum = ctx.rules.averaging_quorum(ctx.params)
    w = domain.genesis_model()
    for r, results in enumerate(proof):
        ids = [res.i for res in results]
        if len(set(ids)) != len(ids):
            return None, f"round {r} averages one cluster twice"
        if len(ids) < quorum:
            return None, f"round {r} averages {len(ids)} clusters, needs {quorum}"
        for res in results:
            problem = result_problem(ctx, r, res)
            if problem:
                return None, problem
        w = domain.apply_update(
            w, sum_values(domain, [res.agg for res in results]), sum(len(res.members) for res in results)
        )
    return w, None


def standard_model_problem(ctx: Context, msg: ModelMsg) -> str | None:
    """Why a client must refuse MODEL `msg` (client step 1), or None if its proof verifies."""
    if len(msg.proof) != msg.r:
        return f"proof covers {len(msg.proof)} rounds, model is of round {msg.r}"
    w, problem = replay_model(ctx, msg.proof)
    if problem:
        return problem
    if ctx.domain.model_digest(w) != ctx.domain.model_digest(msg.w):
        return "the model is not the average its proof certifies"
    return None
