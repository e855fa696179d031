"""Small builders shared by the spec's unit tests."""

from __future__ import annotations

from asfl.reference.field_domain import FieldDomain
from asfl.spec import STANDARD, Context, Params
from asfl.spec.aggregator import initial_aggregator
from asfl.spec.client import initial_client, on_train_done

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, d=3)


def ctx(params: Params = PARAMS, seed: int = 1) -> Context:
    return Context(params, FieldDomain(params, seed), STANDARD)


def contribution(cx: Context, c: int, r: int = 0):
    """Client c's CONTRIB for round r (trained on the genesis model), and its x."""
    st = initial_client(cx, c)
    if r:
        from dataclasses import replace

        st = replace(st, training=r, model_round=r)
    st, sends = on_train_done(cx, st)
    ((dst, msg),) = sends
    return dst, msg, st.outstanding[r].x


def aggregator(cx: Context, j: int):
    return initial_aggregator(cx, j)
