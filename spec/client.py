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
  I3      a late contribution is re-masked for the next round while within s_max; a noise-only
          one becomes a data release when I2 allows one again, or gives way to the training
          for that round (finding F6)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

from .assignment import coordinator
from .context import Context
from .domain import Model, Value
from .errors import ProtocolError
from .fmap import FMap
from .messages import Certify, Contrib, Message, ModelMsg, Party, aggregator

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


def initial_client(ctx: Context, c: int) -> ClientState:
    """Every client starts on the genesis model (round 0) and starts training on it."""
    return ClientState(
        c=c,
        model_round=0,
        model=ctx.domain.genesis_model(),
        training=0,
        contributed=frozenset(),
        released=0,
        outstanding=FMap(),
        certs=FMap(),
    )


def _send_contribution(
    ctx: Context, st: ClientState, r: int, r_model: int, with_data: bool, x: Value
) -> tuple[ClientState, list[Send]]:
    i = ctx.cluster_of(r, st.c)
    y, sealed = ctx.rules.mask(ctx, st.c, r, x)
    st = replace(
        st,
        contributed=st.contributed | {r},
        released=st.released + (1 if with_data else 0),
        outstanding=st.outstanding.set(r, Outstanding(i, r_model, with_data, x)),
        # I1: a round taken by this contribution is no longer trained for
        training=None if st.training == r else st.training,
    )
    return st, [(aggregator(coordinator(i)), Contrib(r, st.c, r_model, y, sealed))]


def on_train_done(ctx: Context, st: ClientState) -> tuple[ClientState, list[Send]]:
    """Step 2: training on the current model ended; contribute to its round if I1/I2 allow."""
    rules, domain = ctx.rules, ctx.domain
    if st.training is None:
        raise ProtocolError("step 2", f"client {st.c} is not training")
    r = st.training
    if not rules.i1_may_contribute(st.contributed, r):
        raise ProtocolError("I1", f"client {st.c} already contributed to round {r}")
    with_data = rules.i2_releases_data(st.released, ctx.params.Q, r, ctx.params.R, st.c)
    x = domain.noise(st.c, r, rules.noise_variance(ctx.params))
    if with_data:
        x = domain.add(domain.data(st.c, r, st.model), x)
    return _send_contribution(ctx, st, r, r, with_data, x)


def on_certify(ctx: Context, st: ClientState, src: Party, msg: Certify) -> tuple[ClientState, list[Send]]:
    """I2/I3: a certificate of the client's (round, cluster) resolves its outstanding contribution.

    In the set: the release stands. Not in the set: by P2 that contribution can never be unmasked,
    so the release is taken back and the contribution is carried over (I3)."""
    params, rules = ctx.params, ctx.rules
    if src.role != "a" or msg.sig.signer != src.index:
        raise ProtocolError("signatures", "CERTIFY not signed by its sender")
    pending = st.outstanding.get(msg.r)
    if pending is None or pending.cluster != msg.i:
        raise ProtocolError("I2", f"client {st.c} has no outstanding contribution for ({msg.r}, {msg.i})")
    key: CertKey = (msg.r, msg.i, msg.members, msg.agg_digest)
    signers = st.certs.get(key, frozenset()) | {msg.sig.signer}
    if len(signers) < rules.certificate_size(params):
        return replace(st, certs=st.certs.set(key, signers)), []
    # certified: resolve, and forget the certificates of that round
    certs = FMap({k: v for k, v in st.certs.items() if k[0] != msg.r})
    st = replace(st, outstanding=st.outstanding.remove(msg.r), certs=certs)
    if st.c in msg.members:
        return st, []
    if pending.with_data and rules.i2_take_back():
        st = replace(st, released=st.released - 1)
    carry = rules.i3_carry_round(st.contributed, msg.r, pending.r_model, params.s_max, params.R)
    if carry is None:
        return st, []  # too stale: the client retrains on a fresh model instead
    if not pending.with_data:
        # noise only: a take-back may since have let I2 release data in its place (finding F6)
        pending = _noise_carried(ctx, st, pending, carry)
        if pending is None:
            return st, []  # the training for `carry` contributes there, with data
    return _send_contribution(ctx, st, carry, pending.r_model, pending.with_data, pending.x)


def _noise_carried(ctx: Context, st: ClientState, pending: Outstanding, carry: int) -> Outstanding | None:
    """I3 for a noise-only contribution left out of its set (`i3_noise_carry`, finding F6): as it
    was sent, with the update of the model it was trained on added (a data release, I2), or None
    when the client's training for round `carry` is to take that round's slot instead."""
    params, rules, domain = ctx.params, ctx.rules, ctx.domain
    how = rules.i3_noise_carry(
        rules.i2_releases_data(st.released, params.Q, carry, params.R, st.c),
        st.model_round == pending.r_model,
        st.training == carry,
    )
    if how == "dropped":
        return None
    if how == "as data":
        update = domain.data(st.c, pending.r_model, st.model)
        return replace(pending, with_data=True, x=domain.add(update, pending.x))
    return pending


def on_model(ctx: Context, st: ClientState, src: Party, msg: ModelMsg) -> tuple[ClientState, list[Send]]:
    """Step 1: accept a newer MODEL whose proof verifies (P4); train on it unless I1 forbids."""
    params, rules = ctx.params, ctx.rules
    if src.role != "a":
        raise ProtocolError("step 1", "MODEL must come from an aggregator")
    if msg.r <= st.model_round:
        raise ProtocolError("step 1", f"model of round {msg.r} is not newer than {st.model_round}")
    if msg.r > params.R:
        raise ProtocolError("step 1", f"model of round {msg.r} is past R={params.R}")
    problem = rules.model_problem(ctx, msg)
    if problem:
        raise ProtocolError("P4 model proof", problem)
    trains = msg.r < params.R and rules.i1_may_contribute(st.contributed, msg.r)
    return replace(st, model_round=msg.r, model=msg.w, training=msg.r if trains else None), []


def client_receive(ctx: Context, st: ClientState, src: Party, msg: Message) -> tuple[ClientState, list[Send]]:
    """Dispatch a delivered message; clients act on CERTIFY and MODEL only."""
    if isinstance(msg, Certify):
        return on_certify(ctx, st, src, msg)
    if isinstance(msg, ModelMsg):
        return on_model(ctx, st, src, msg)
    raise ProtocolError("messages", f"a client does not handle {type(msg).__name__}")
