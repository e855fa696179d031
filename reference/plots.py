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


def epsilon_plot(
    results: Sequence[RunResult], epsilon: float, title: str, durations: Sequence[float] | None = None
) -> bytes:
    """Exact epsilon of every correct client, one series per private method; clients ordered from
    fastest to slowest when `durations` is given (so a speed-driven imbalance shows as a slope)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for res in (r for r in results if r.z is not None):
        eps = res.epsilons()
        order = sorted(eps, key=(lambda c: durations[c]) if durations is not None else None)
        ax.plot(
            range(len(order)),
            [eps[c] for c in order],
            marker="o",
            markersize=3,
            linewidth=1,
            label=res.method,
        )
    ax.axhline(epsilon, color="k", linestyle="--", linewidth=1, label=f"target epsilon = {epsilon:g}")
    ax.set_xlabel("client, fastest to slowest" if durations is not None else "client")
    ax.set_ylabel("epsilon (exact, analytic Gaussian)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _png(fig)


def privacy_utility_plot(
    accuracy: dict[str, dict[float, list[float]]],
    title: str,
    methods: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
) -> bytes:
    """Final test accuracy against (target) epsilon, one line (mean over seeds) and one band
    (min..max over seeds) per method; a method without noise (FedAvg) is the same at every epsilon.
    `labels`: legend text per method (e.g. to say that a method overspends its target)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method in methods or list(accuracy):
        cells = accuracy.get(method)
        if not cells:
            continue
        eps = sorted(cells)
        mean = [sum(cells[e]) / len(cells[e]) for e in eps]
        (line,) = ax.plot(eps, mean, marker="o", markersize=4, label=(labels or {}).get(method, method))
        if any(len(cells[e]) > 1 for e in eps):
            ax.fill_between(
                eps,
                [min(cells[e]) for e in eps],
                [max(cells[e]) for e in eps],
                color=line.get_color(),
                alpha=0.2,
            )
    ax.set_xscale("log", base=2)
    ticks = sorted({e for cells in accuracy.values() for e in cells})
    ax.set_xticks(ticks, [f"{e:g}" for e in ticks])
    ax.set_xlabel("target epsilon (delta fixed)")
    ax.set_ylabel("final test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)
