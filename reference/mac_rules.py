"""A1 realised inside a simulated run: the rule table `MAC_A1` (PROTOCOL.md section 4, `mac.py`).

The spec's `share_sum_verifies` is an ideal predicate. `MAC_A1 = replace(STANDARD, mask=...,
share_sum_verifies=...)` replaces it with the linear-MAC construction, carried by the values
themselves: a share sent to aggregator k is a `TaggedVec` (the share and one tag per verifier), the
domain adds and scales shares and tags alike (tags are linear), so the share-sum an aggregator
returns carries its tag-sums, and the check recomputes them from the MAC keys.

[ours] The spec's rule is not told which aggregator verifies, so this realisation checks the tags of
every verifier. A correct verifier's own check is one of them, so it never accepts what the
per-verifier check would refuse; it may refuse more (a share-sum whose tag for some other verifier is
wrong), which only a Byzantine sender can cause and which costs it its own share-sum, as silence
would. A per-verifier check needs the verifier's identity in the rule's arguments (a spec change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from asfl.spec.context import Context
from asfl.spec.messages import Contrib, Sealed, ShareSum, Sig, endorsement_payload
from asfl.spec.rules import STANDARD, Rules, standard_mask

from .field_domain import Vec
from .mac import MacKeys, client_tags_batch, verify_share_sum
from .training_domain import TrainingDomain


class TaggedVec(Vec):
    """A share (or share-sum) with its tags (or tag-sums), one per verifier."""

    __slots__ = ("tags",)

    def __init__(self, a: np.ndarray, tags: np.ndarray) -> None:
        super().__init__(a)
        tags = np.ascontiguousarray(tags, dtype=np.int64)
        tags.setflags(write=False)
        self.tags = tags

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TaggedVec) and super().__eq__(other) and np.array_equal(self.tags, other.tags)
        )

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.tags.tobytes()))


class MacTrainingDomain(TrainingDomain):
    """The training domain plus the MAC key setup; shares and tags add and scale together."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p = self.params
        self.mac_keys = MacKeys.setup(self.secret, p.n_c, p.n_a, p.q, p.d)

    def add(self, a: Vec, b: Vec) -> Vec:
        s = (a.a + b.a) % self.q
        ta, tb = getattr(a, "tags", None), getattr(b, "tags", None)
        if ta is None and tb is None:
            return Vec(s)
        if ta is None or tb is None:  # the zero the spec starts its sums from
            zero_side = a if ta is None else b
            if np.any(zero_side.a):
                return Vec(s)  # adding an untagged non-zero value: tags no longer mean anything
            return TaggedVec(s, ta if ta is not None else tb)
        return TaggedVec(s, (ta + tb) % self.q)

    def scale(self, a: Vec, k: int) -> Vec:
        s = a.a * (k % self.q) % self.q
        tags = getattr(a, "tags", None)
        return Vec(s) if tags is None else TaggedVec(s, tags * (k % self.q) % self.q)

    def sub(self, a: Vec, b: Vec) -> Vec:
        return Vec((a.a - b.a) % self.q)  # only agg = sum(ys) - pads subtracts: untagged

    def linear_combination(self, parts: Sequence[tuple[Vec, int]]) -> Vec:
        # folded through `add` and `scale`, so that tags are summed and scaled with their shares
        acc = self.zero()
        for v, k in parts:
            acc = self.add(acc, self.scale(v, k))
        return acc


def mac_mask(ctx: Context, c: int, r: int, x: Vec) -> tuple[Vec, tuple[Sealed, ...]]:
    """The standard mask (section 4), each share tagged for every verifier."""
    y, sealed = standard_mask(ctx, c, r, x)
    keys: MacKeys = ctx.domain.mac_keys
    assert [s.to for s in sealed] == list(range(keys.n_a))
    tags = client_tags_batch(keys, c, r, np.stack([s.share.a for s in sealed]))
    return y, tuple(Sealed(s.to, TaggedVec(s.share.a, tags[s.to])) for s in sealed)


def mac_share_sum_verifies(ctx: Context, contribs: Sequence[Contrib], ss: ShareSum) -> bool:
    """A1 by MACs: the endorsement is right and every verifier's tag-sum checks (module docstring)."""
    if ss.endorsement != Sig(ss.sender, endorsement_payload(ss.r, ss.i, ss.members)):
        return False
    tags = getattr(ss.total, "tags", None)
    keys: MacKeys = ctx.domain.mac_keys
    if tags is None or len(tags) != keys.n_a:
        return False
    members = sorted(c.c for c in contribs)
    return all(
        verify_share_sum(keys, v, ss.r, ss.sender, members, np.asarray(ss.total.a), int(tags[v]))
        for v in range(keys.n_a)
    )


MAC_A1: Rules = replace(STANDARD, name="mac-a1", mask=mac_mask, share_sum_verifies=mac_share_sum_verifies)
