"""Client c (PROTOCOL.md section 6, client steps 1-2 and the inclusion mechanism I1-I3).

Clients only crash. A client trains on the newest model it accepted (training is an event of its
own: the scheduler decides how long it takes), masks `x = encode(clip(update)) + noise` with a
one-time pad `rho`, Shamir-shares `rho` to the aggregators, and sends CONTRIB to its coordinator
of the round. Its release count is pessimistic (I2): a data contribution counts when sent and is
taken back only when a certificate shows another set was fixed for that (round, cluster).

Rules owned here:
  step 1  accept a MODEL whose proof verifies and whose round is newer (P4)
  step 2  on training completion, contribute to the current round if I1/I2 allow
  I1      one contribution per round
  I2      quota Q; noise-only contributions past it; pessimistic count, taken back on certificate
  I3      a late contribution is re-masked for the next round while within s_max
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

from .assignment import cluster_of, coordinator
from .certificates import model_problem
from .domain import Domain, Label, Model, Value, polynomial_share, share_point
from .errors import ProtocolError
from .fmap import FMap
from .inclusion import i1_may_contribute, i2_releases_data, i3_carry_round
from .messages import Certify, Contrib, Message, ModelMsg, Party, Sealed, aggregator
from .params import Params

CertKey = tuple[int, int, frozenset[int], Hashable]
Send = tuple[Party, Message]


@dataclass(frozen=True)
class Outstanding:
    """A contribution sent and not yet resolved by a certificate of its (round, cluster)."""

    cluster: int
    r_model: int
    with_data: bool
    x: Value  # the masked secret, kept so a late contribution can be re-masked (I3)


@dataclass(frozen=True)
class ClientState:
    c: int
    model_round: int
    model: Model
    training: int | None  # round of the model being trained on, None when idle
    contributed: frozenset[int]  # I1: rounds contributed to
    released: int  # I2: data releases counted (pessimistically)
    outstanding: FMap[int, Outstanding]  # contribution round -> what was sent
    certs: FMap[CertKey, frozenset[int]]  # CERTIFY signers seen, for outstanding rounds only


def initial_client(params: Params, domain: Domain, c: int) -> ClientState:
    """Every client starts on the genesis model (round 0) and starts training on it."""
    return ClientState(
        c=c,
        model_round=0,
        model=domain.genesis_model(),
        training=0,
        contributed=frozenset(),
        released=0,
        outstanding=FMap(),
        certs=FMap(),
    )


def mask(
    params: Params, domain: Domain, c: int, r: int, x: Value
) -> tuple[Value, tuple[Sealed, ...]]:
    """y = x + rho and the shares p(j+1) of rho (section 4). Fresh pad and polynomial per round r:
    the pad is shared, never a seed of it (a seed would let a coordinator unmask one client)."""
    assert params.T is not None
    rho = domain.draw(Label("pad", c, r))
    coeffs = [domain.draw(Label("coef", c, r, k)) for k in range(1, params.T)]
    sealed = tuple(
        Sealed(j, polynomial_share(domain, rho, coeffs, share_point(j))) for j in range(params.n_a)
    )
    return domain.add(x, rho), sealed


def _send_contribution(
    params: Params, domain: Domain, st: ClientState, r: int, r_model: int, with_data: bool, x: Value
) -> tuple[ClientState, list[Send]]:
    i = cluster_of(params, r, st.c)
    y, sealed = mask(params, domain, st.c, r, x)
    st = replace(
        st,
        contributed=st.contributed | {r},
        released=st.released + (1 if with_data else 0),
        outstanding=st.outstanding.set(r, Outstanding(i, r_model, with_data, x)),
        # I1: a round taken by this contribution is no longer trained for
        training=None if st.training == r else st.training,
    )
    return st, [(aggregator(coordinator(i)), Contrib(r, st.c, r_model, y, sealed))]


def on_train_done(
    params: Params, domain: Domain, st: ClientState
) -> tuple[ClientState, list[Send]]:
    """Step 2: training on the current model ended; contribute to its round if I1/I2 allow."""
    if st.training is None:
        raise ProtocolError("step 2", f"client {st.c} is not training")
    r = st.training
    if not i1_may_contribute(st.contributed, r):
        raise ProtocolError("I1", f"client {st.c} already contributed to round {r}")
    with_data = i2_releases_data(st.released, params.Q)
    x = domain.noise(st.c, r)
    if with_data:
        x = domain.add(domain.data(st.c, r, st.model), x)
    return _send_contribution(params, domain, st, r, r, with_data, x)


def on_certify(
    params: Params, domain: Domain, st: ClientState, src: Party, msg: Certify
) -> tuple[ClientState, list[Send]]:
    """I2/I3: a certificate of the client's (round, cluster) resolves its outstanding contribution.

    In the set: the release stands. Not in the set: by P2 that contribution can never be unmasked,
    so the release is taken back and the contribution is carried over (I3)."""
    if src.role != "a" or msg.sig.signer != src.index:
        raise ProtocolError("signatures", "CERTIFY not signed by its sender")
    pending = st.outstanding.get(msg.r)
    if pending is None or pending.cluster != msg.i:
        raise ProtocolError(
            "I2", f"client {st.c} has no outstanding contribution for ({msg.r}, {msg.i})"
        )
    key: CertKey = (msg.r, msg.i, msg.members, msg.agg_digest)
    signers = st.certs.get(key, frozenset()) | {msg.sig.signer}
    if len(signers) < params.certificate_size:
        return replace(st, certs=st.certs.set(key, signers)), []
    # certified: resolve, and forget the certificates of that round
    certs = FMap({k: v for k, v in st.certs.items() if k[0] != msg.r})
    st = replace(st, outstanding=st.outstanding.remove(msg.r), certs=certs)
    if st.c in msg.members:
        return st, []
    if pending.with_data:
        st = replace(st, released=st.released - 1)
    carry = i3_carry_round(st.contributed, msg.r, pending.r_model, params.s_max, params.R)
    if carry is None:
        return st, []  # too stale: the client retrains on a fresh model instead
    return _send_contribution(
        params, domain, st, carry, pending.r_model, pending.with_data, pending.x
    )


def on_model(
    params: Params, domain: Domain, st: ClientState, src: Party, msg: ModelMsg
) -> tuple[ClientState, list[Send]]:
    """Step 1: accept a newer MODEL whose proof verifies (P4); train on it unless I1 forbids."""
    if src.role != "a":
        raise ProtocolError("step 1", "MODEL must come from an aggregator")
    if msg.r <= st.model_round:
        raise ProtocolError("step 1", f"model of round {msg.r} is not newer than {st.model_round}")
    if msg.r > params.R:
        raise ProtocolError("step 1", f"model of round {msg.r} is past R={params.R}")
    problem = model_problem(params, domain, msg)
    if problem:
        raise ProtocolError("P4 model proof", problem)
    trains = msg.r < params.R and i1_may_contribute(st.contributed, msg.r)
    return replace(st, model_round=msg.r, model=msg.w, training=msg.r if trains else None), []


def client_receive(
    params: Params, domain: Domain, st: ClientState, src: Party, msg: Message
) -> tuple[ClientState, list[Send]]:
    """Dispatch a delivered message; clients act on CERTIFY and MODEL only."""
    if isinstance(msg, Certify):
        return on_certify(params, domain, st, src, msg)
    if isinstance(msg, ModelMsg):
        return on_model(params, domain, st, src, msg)
    raise ProtocolError("messages", f"a client does not handle {type(msg).__name__}")
