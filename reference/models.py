"""Numpy models for federated training: softmax regression and a one-hidden-layer MLP.

A model is one flat float64 parameter vector (what the protocol averages: `w` of section 6), and
a `Model` object knows how to unflatten it, compute gradients and train locally. Local training is
`epochs` passes of minibatch SGD; the client's update is `w_local - w` (then clipped and encoded
by the domain, section 4). Hand-written because scikit-learn's estimators cannot start from a
given parameter vector and return the difference, which FedAvg needs; the maths is twenty lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODELS = ("softmax", "mlp")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Model:
    kind: str
    n_features: int
    n_classes: int
    hidden: int = 32

    @property
    def dim(self) -> int:
        f, k, h = self.n_features, self.n_classes, self.hidden
        return f * k + k if self.kind == "softmax" else f * h + h + h * k + k

    def init(self, seed: int) -> np.ndarray:
        """The genesis model: zeros for softmax, scaled Gaussian (He) for the MLP's first layer."""
        if self.kind == "softmax":
            return np.zeros(self.dim)
        rng = np.random.default_rng(seed)
        f, k, h = self.n_features, self.n_classes, self.hidden
        w1 = rng.normal(0, np.sqrt(2.0 / f), f * h)
        w2 = rng.normal(0, np.sqrt(1.0 / h), h * k)
        return np.concatenate([w1, np.zeros(h), w2, np.zeros(k)])

    def _unpack(self, w: np.ndarray):
        f, k, h = self.n_features, self.n_classes, self.hidden
        if self.kind == "softmax":
            return w[: f * k].reshape(f, k), w[f * k :]
        a = f * h
        return (
            w[:a].reshape(f, h),
            w[a : a + h],
            w[a + h : a + h + h * k].reshape(h, k),
            w[a + h + h * k :],
        )

    def logits(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        if self.kind == "softmax":
            wm, b = self._unpack(w)
            return x @ wm + b
        w1, b1, w2, b2 = self._unpack(w)
        return np.maximum(x @ w1 + b1, 0) @ w2 + b2

    def gradient(self, w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Gradient of the mean cross-entropy over (x, y)."""
        n = len(y)
        if self.kind == "softmax":
            wm, b = self._unpack(w)
            g = _softmax(x @ wm + b)
            g[np.arange(n), y] -= 1
            g /= n
            return np.concatenate([(x.T @ g).ravel(), g.sum(axis=0)])
        w1, b1, w2, b2 = self._unpack(w)
        pre = x @ w1 + b1
        hid = np.maximum(pre, 0)
        g = _softmax(hid @ w2 + b2)
        g[np.arange(n), y] -= 1
        g /= n
        gh = (g @ w2.T) * (pre > 0)
        return np.concatenate([(x.T @ gh).ravel(), gh.sum(axis=0), (hid.T @ g).ravel(), g.sum(axis=0)])

    def local_update(
        self,
        w: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        lr: float,
        epochs: int,
        batch: int,
    ) -> np.ndarray:
        """`epochs` passes of minibatch SGD from w; returns the update w_local - w."""
        local = w.copy()
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for start in range(0, len(y), batch):
                idx = order[start : start + batch]
                local -= lr * self.gradient(local, x[idx], y[idx])
        return local - w

    def accuracy(self, w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.logits(w, x).argmax(axis=1) == y).mean())
