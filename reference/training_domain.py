"""The concrete value domain that trains (the spec's `Domain`, ARCHITECTURE.md; PROTOCOL.md section 4).

Values are numpy vectors in F_q (`Vec`, `field.py`); models are float parameter vectors of a
`models.Model`. The client's inputs are real:
  data(c, r_model, w)   local SGD on c's partition from w, update clipped to L2 norm C and encoded
                        in fixed point with the checked headroom (no sum of n_c values can wrap);
  noise(c, r_model, v)  the exact discrete Gaussian of variance v * scale^2 (v = sigma^2/m, as the
                        spec's noise-variance rule passes), in the same fixed point;
  draw(label)           pads and Shamir coefficients from AES-CTR keyed by (run secret, label).
Every value is a deterministic function of (seed, label), so the spec stays pure and a recorded
run replays bit for bit.

The server step (`apply_update`) is the spec's `w + eta * decode(total) / count` times a public
per-round factor `steps[r]` (default 1 in every round): the reference's step schedule
(`experiment.step_schedule`, docs/reference.md "The server step of a round that carries no data").
A model carries the round it is the model of (`ModelVec`), so the step of round r is known to
whoever applies it: the averager and every client replaying a proof (P4) alike.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from asfl.spec.domain import Label
from asfl.spec.params import Params

from .discrete_gaussian import sample_discrete_gaussian
from .field import EncodingError, clip, decode, encode, encode_int, headroom
from .field_domain import FieldDomain, Vec
from .models import Model
from .prg import derive_key, uniform_field

if TYPE_CHECKING:  # only annotated: importing the MAC rules must not pull in scikit-learn
    from .datasets import Dataset


@dataclass(frozen=True)
class LocalTraining:
    """Client-side SGD hyper-parameters."""

    lr: float = 0.1
    epochs: int = 1
    batch: int = 16


class ModelVec(Vec):
    """A model vector and the round it is the model of (genesis: 0; `apply_update` adds one).
    Compares and hashes as the vector (`Vec`): the round is not part of the value, as in the spec,
    where MODEL names its round beside the model."""

    __slots__ = ("round",)

    def __init__(self, a: np.ndarray, round: int) -> None:
        super().__init__(a)
        self.round = round


class TrainingDomain(FieldDomain):
    """F_q^d vectors whose data are real clipped model updates (see module docstring)."""

    def __init__(
        self,
        params: Params,
        seed: int,
        model: Model,
        dataset: Dataset,
        parts: Sequence[np.ndarray],
        local: LocalTraining = LocalTraining(),
        steps: Sequence[float] | None = None,
    ) -> None:
        if params.d != model.dim:
            raise ValueError(f"params.d={params.d} but the model has {model.dim} parameters")
        super().__init__(params, seed)
        self.model = model
        self.dataset = dataset
        self.parts = list(parts)
        self.local = local
        valid = steps is None or (len(steps) == params.R and all(math.isfinite(x) and x >= 0 for x in steps))
        if not valid:
            raise ValueError(f"steps: {params.R} finite factors >= 0 expected, got {list(steps)!r}")
        #: the server step of round r is eta * steps[r] (None: eta in every round, the spec's step)
        self.steps = None if steps is None else tuple(float(x) for x in steps)
        self.secret = hashlib.sha256(b"asfl-run-secret" + seed.to_bytes(8, "little", signed=True)).digest()
        self.bound = headroom(params.q, params.n_c)
        self.data_bound = math.ceil(params.clip * params.scale) + 1
        if self.data_bound >= self.bound:
            raise EncodingError(
                f"clip*scale={self.data_bound} leaves no headroom below {self.bound} for n_c={params.n_c}"
            )

    def draw(self, label: Label) -> Vec:
        key = derive_key(self.secret, label.kind, label.party, label.round, label.index)
        return Vec(uniform_field(key, self.d, self.q))

    def raw_update(self, c: int, r_model: int, model: Vec) -> np.ndarray:
        """Client c's clipped update (real numbers) from the model of round r_model."""
        idx = self.parts[c]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 3, c, r_model]))
        lt = self.local
        u = self.model.local_update(
            np.asarray(model.a),
            self.dataset.x_train[idx],
            self.dataset.y_train[idx],
            rng,
            lt.lr,
            lt.epochs,
            lt.batch,
        )
        return clip(u, self.params.clip)

    def data(self, c: int, r_model: int, model: Vec) -> Vec:
        return Vec(encode(self.raw_update(c, r_model, model), self.params.scale, self.q, self.data_bound))

    def noise(self, c: int, r_model: int, variance: float) -> Vec:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 4, c, r_model]))
        e = sample_discrete_gaussian(rng, variance * self.params.scale**2, self.d)
        return Vec(encode_int(e, self.q, self.bound - self.data_bound))

    def genesis_model(self) -> ModelVec:
        return ModelVec(self.model.init(self.seed), 0)

    def apply_update(self, w: Vec, total: Vec, count: int) -> ModelVec:
        """w_{r+1} = w_r + eta * steps[r] * decode(total) / count; r is w's round (`ModelVec`)."""
        r = getattr(w, "round", None)
        if r is None:
            raise ValueError("apply_update: the model does not say its round (not from genesis_model)")
        if self.steps is not None and not 0 <= r < len(self.steps):
            raise ValueError(f"apply_update: no step for round {r} (R={len(self.steps)})")
        eta = self.params.eta * (1.0 if self.steps is None else self.steps[r])
        return ModelVec(w.a + eta * decode(total.a, self.params.scale, self.q) / max(count, 1), r + 1)
