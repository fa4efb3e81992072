"""PNG figures: the shared figure helpers, the forecast plot and per-step classification plots."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from lstm_lab.io import atomic_write


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no display)."""
    # Imported on first use: matplotlib costs start-up time that a run without plots skips.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_forecast(
    xs: Tensor,
    ys: Tensor,
    test_xs: Tensor,
    predictions: dict[str, Tensor],
    path: Path,
    title: str,
    actual_label: str = "actual f(x) = x·sin(x)",
) -> Path:
    """The seed's figure, readable: the whole actual curve and predictions on the test part."""
    plt = pyplot()
    fig, (ax_full, ax_zoom) = plt.subplots(
        2, 1, figsize=(10, 7), gridspec_kw={"height_ratios": [3, 2]}, constrained_layout=True
    )
    for ax, zoom in ((ax_full, False), (ax_zoom, True)):
        ax.axvspan(float(test_xs[0]), float(xs[-1]), color="0.93", zorder=0)
        ax.plot(xs, ys, color="tab:blue", lw=1.5, label=actual_label)
        markers = iter("os^D")
        colors = iter(["tab:red", "tab:green", "tab:purple", "tab:orange"])
        for name, pred in predictions.items():
            ax.plot(
                test_xs,
                pred,
                linestyle="none",
                marker=next(markers),
                ms=4,
                color=next(colors),
                label=name,
            )
        ax.grid(alpha=0.3)
        ax.set_xlabel("x")
        if zoom:
            ax.set_xlim(float(test_xs[0]) - 0.5, float(xs[-1]) + 0.2)
            ax.set_title("test part (the seed's last 20%)", fontsize=10)
    ax_full.set_ylabel("f(x)")
    ax_full.set_title(title)
    ax_full.text(float(test_xs[0]) + 0.2, float(ys.max()) * 0.9, "test", color="0.4")
    ax_full.legend(loc="lower center", ncol=2)
    return save_figure(fig, path)


def plot_sequences(
    x: Tensor, y: Tensor, prob: Tensor, limit: float, path: Path, title: str
) -> Path:
    """A few test sequences: running sum vs the limit, expected labels and predicted probability."""
    plt = pyplot()
    n, steps = y.shape
    height = 2.3 * n
    fig, axes = plt.subplots(n, 1, figsize=(9, height), sharex=True)
    # Fixed margins (in inches) rather than constrained_layout, which took about half of the
    # plot's half second to lay out these eight axes.
    fig.subplots_adjust(
        left=0.8 / 9, right=1 - 0.75 / 9, bottom=0.55 / height, top=1 - 0.75 / height, hspace=0.1
    )
    axes = [axes] if n == 1 else list(axes)
    t = torch.arange(1, steps + 1)
    for i, ax in enumerate(axes):
        cumsum = x[i].cumsum(0)
        wrong = ((prob[i] > 0.5).float() != y[i]).sum().item()
        ax.bar(t, y[i], width=0.8, color="tab:blue", alpha=0.25, label="expected label")
        ax.plot(t, prob[i], "o-", color="tab:red", label="predicted P(label=1)")
        ax.set_ylim(-0.05, 1.15)
        ax.set_ylabel(f"seq {i}\n{int(wrong)} wrong", fontsize=9)
        twin = ax.twinx()
        twin.plot(t, cumsum, "--", color="0.35", lw=1, label="running sum")
        twin.axhline(limit, color="0.35", lw=0.8, ls=":", label=f"limit {limit:g}")
        twin.set_ylabel("running sum", fontsize=8, color="0.35")
        if i == 0:
            handles, labels = ax.get_legend_handles_labels()
            twin_handles, twin_labels = twin.get_legend_handles_labels()
            fig.legend(
                handles + twin_handles,
                labels + twin_labels,
                loc="upper center",
                bbox_to_anchor=(0.5, 1 - 0.33 / height),
                ncol=4,
                fontsize=9,
            )
    axes[-1].set_xlabel("time step")
    axes[-1].set_xticks(t)
    fig.suptitle(title, y=1 - 0.05 / height)
    return save_figure(fig, path)


def save_figure(fig, path: Path) -> Path:
    """Write `fig` as a PNG at `path` (folders made as needed) and close it."""
    plt = pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: fig.savefig(file, dpi=110, format="png"))
    plt.close(fig)
    return path
