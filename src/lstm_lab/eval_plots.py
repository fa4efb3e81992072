"""Figures eval.py draws: forecasts beside the baselines, and accuracy by time-step position."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from lstm_lab.forecast import LABELS, TestForecasts, mse
from lstm_lab.plotting import pyplot, save_figure

COLORS = {"lstm": "tab:red", "linear_ar": "tab:green", "persistence": "tab:gray"}
ROLLOUT_STYLES = {"lstm": "-", "linear_ar": "--", "persistence": ":"}


def plot_rollouts(
    forecasts: TestForecasts,
    xs: Tensor,
    ys: Tensor,
    formula: str,
    path: Path,
    title: str,
) -> Path:
    """Actual test curve, LSTM one-step points and every forecaster's rollout; errors below."""
    plt = pyplot()
    fig, (ax, ax_err) = plt.subplots(
        2, 1, figsize=(10, 8), gridspec_kw={"height_ratios": [3, 2]}, constrained_layout=True
    )
    start = float(forecasts.xs[0])
    context = xs >= start - 4.0  # a little of the validation part, for the run-up
    ax.axvspan(start, float(xs[-1]), color="0.93", zorder=0)
    ax.plot(xs[context], ys[context], color="tab:blue", lw=2.5, label=f"actual {formula}")
    ax.plot(
        forecasts.xs,
        forecasts.one_step["lstm"],
        "o",
        ms=4,
        color=COLORS["lstm"],
        label=f"LSTM one-step (MSE {mse(forecasts.one_step['lstm'], forecasts.actual):.3g})",
    )
    for name, rolled in forecasts.rollout.items():
        ax.plot(
            forecasts.xs,
            rolled,
            ROLLOUT_STYLES.get(name, "-."),
            lw=2,
            color=COLORS.get(name),
            label=f"{LABELS.get(name, name)} rollout (MSE {mse(rolled, forecasts.actual):.3g})",
        )
    ax.axvline(start, color="0.4", lw=0.8)
    ax.text(start + 0.1, 0.04, "test: rollouts start here", transform=ax.get_xaxis_transform())
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)

    steps = torch.arange(1, len(forecasts.actual) + 1)
    for name in forecasts.rollout:
        color = COLORS.get(name)
        label = LABELS.get(name, name)
        for mode, preds, style in (
            ("rollout", forecasts.rollout, dict(lw=2, ls=ROLLOUT_STYLES.get(name, "-."))),
            ("one-step", forecasts.one_step, dict(lw=0.8, ls="none", marker=".", ms=4)),
        ):
            # Exact predictions would vanish from a log axis; show them at its floor.
            error = (preds[name].double() - forecasts.actual).abs().clamp_min(1e-12)
            ax_err.plot(steps, error, color=color, label=f"{label} {mode}", **style)
    ax_err.set_yscale("log")
    ax_err.set_xlabel("steps after the first test window")
    ax_err.set_ylabel("|error| (log)")
    ax_err.set_title(
        "absolute error: one-step (dots) and rollout (lines); exact ones drawn at 1e-12",
        fontsize=10,
    )
    ax_err.grid(alpha=0.3, which="both")
    ax_err.legend(loc="lower right", ncol=3, fontsize=8)
    return save_figure(fig, path)


def plot_step_accuracy(
    step_accuracy: Tensor,
    crossing_share: Tensor,
    offset_error: dict[int, float],
    offset_share: dict[int, float],
    path: Path,
    title: str,
) -> Path:
    """Error rate per time-step position beside where the running sum crosses the limit."""
    plt = pyplot()
    fig, (ax, ax_offset) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]}, constrained_layout=True
    )
    t = torch.arange(1, len(step_accuracy) + 1)
    ax.bar(t, 100 * (1 - step_accuracy), color="tab:red", alpha=0.7, label="error rate")
    ax.set_xlabel("time step position")
    ax.set_ylabel("error rate (%)", color="tab:red")
    ax.set_xticks(t)
    twin = ax.twinx()
    twin.plot(t, 100 * crossing_share, "o-", color="0.3", label="sequences crossing here")
    twin.set_ylabel("sequences crossing the limit here (%)", color="0.3")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper right", fontsize=9)
    ax.set_title("per position", fontsize=10)

    offsets = sorted(offset_error)
    bars = ax_offset.bar(offsets, [100 * offset_error[o] for o in offsets], color="tab:purple")
    shares = [f"{100 * offset_share[o]:.0f}% of errors" if offset_share[o] else "" for o in offsets]
    ax_offset.bar_label(bars, shares, fontsize=9)
    ax_offset.margins(y=0.15)
    ax_offset.set_xlabel("steps from the crossing (0 = the step whose label turns 1)")
    ax_offset.set_ylabel("error rate (%)")
    ax_offset.set_xticks(offsets)
    ax_offset.set_title("relative to the crossing", fontsize=10)
    fig.suptitle(title)
    return save_figure(fig, path)
