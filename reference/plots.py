"""PNG figures of a training comparison (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .experiment import RunResult  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def accuracy_plot(results: Sequence[RunResult], title: str) -> bytes:
    """Test accuracy against simulated time, one line per method."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for res in results:
        ax.plot([t for t, _, _ in res.curve], [a for _, _, a in res.curve], marker=".", label=res.method)
    ax.set_xlabel("simulated time (median client training = 1)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _png(fig)


def epsilon_plot(results: Sequence[RunResult], epsilon: float, title: str) -> bytes:
    """Exact epsilon of every correct client (sorted by client id), one series per private method."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    private = [r for r in results if r.z is not None]
    width = 0.8 / max(len(private), 1)
    for k, res in enumerate(private):
        eps = res.epsilons()
        xs = sorted(eps)
        ax.bar([x + k * width for x in xs], [eps[x] for x in xs], width=width, label=res.method)
    ax.axhline(epsilon, color="k", linestyle="--", linewidth=1, label=f"target epsilon = {epsilon:g}")
    ax.set_xlabel("client")
    ax.set_ylabel("epsilon (exact, analytic Gaussian)")
    ax.set_title(title)
    ax.legend()
    return _png(fig)
