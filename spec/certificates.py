"""Certificates and model proofs (PROTOCOL.md sections 5 and 6, client step 1; property P4).

A cluster result is certified by `t_a + 1` CERTIFY signatures from distinct aggregators (Q6: so
at least one correct aggregator verified the share-sums and recomputed agg). A MODEL of round r
carries, for every round k < r, the certified results it averaged; a client recomputes the model
from the genesis model and accepts it only if it matches.
"""

from __future__ import annotations

from .assignment import clusters
from .domain import Domain, Model
from .messages import CertifiedResult, ModelMsg, certify_payload
from .params import Params


def result_problem(params: Params, domain: Domain, r: int, result: CertifiedResult) -> str | None:
    """Why `result` is not a certified result of round r, or None if it is."""
    if not 0 <= result.i < params.n_a:
        return f"cluster {result.i} does not exist"
    if not result.members <= clusters(params, r)[result.i]:
        return f"set of cluster {result.i} is not a subset of S_{result.i}^{r}"
    if len(result.members) < params.m:
        return f"set of cluster {result.i} has {len(result.members)} < m={params.m} members"
    payload = certify_payload(r, result.i, result.members, domain.digest(result.agg))
    signers = {s.signer for s in result.sigs if s.payload == payload}
    if len(signers) < params.certificate_size:
        return (
            f"cluster {result.i} of round {r} has {len(signers)} valid CERTIFY signatures, "
            f"needs t_a+1={params.certificate_size}"
        )
    return None


def replay_model(
    params: Params, domain: Domain, proof: tuple[tuple[CertifiedResult, ...], ...]
) -> tuple[Model | None, str | None]:
    """Recompute the model a proof describes, from the genesis model (P4), or say why not."""
    w = domain.genesis_model()
    for r, results in enumerate(proof):
        ids = [res.i for res in results]
        if len(set(ids)) != len(ids):
            return None, f"round {r} averages one cluster twice"
        if len(ids) < params.progress_quorum:
            return None, (
                f"round {r} averages {len(ids)} clusters, needs n_a-t_a={params.progress_quorum}"
            )
        for res in results:
            problem = result_problem(params, domain, r, res)
            if problem:
                return None, problem
        total = domain.zero()
        for res in results:
            total = domain.add(total, res.agg)
        w = domain.apply_update(w, total, sum(len(res.members) for res in results))
    return w, None


def model_problem(params: Params, domain: Domain, msg: ModelMsg) -> str | None:
    """Why a client must refuse MODEL `msg` (client step 1), or None if its proof verifies."""
    if len(msg.proof) != msg.r:
        return f"proof covers {len(msg.proof)} rounds, model is of round {msg.r}"
    w, problem = replay_model(params, domain, msg.proof)
    if problem:
        return problem
    if domain.model_digest(w) != domain.model_digest(msg.w):
        return "the model is not the average its proof certifies"
    return None
