"""What eval.py reports for each task: forecasts against baselines, accuracy by time step.

The datamodules' `evaluate` hooks call these, so eval.py itself knows no task.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pytorch_lightning as pl
import torch
from torch import Tensor

from lstm_lab.eval_plots import plot_rollouts, plot_step_accuracy
from lstm_lab.forecast import LABELS, forecast_test_part
from lstm_lab.io import atomic_text, atomic_write

if TYPE_CHECKING:
    from lstm_lab.data.cumsum import CumsumDataModule
    from lstm_lab.data.function import FunctionDataModule


def rescore_test_part(model: pl.LightningModule, test: tuple[Tensor, ...]) -> dict[str, float]:
    """The test metrics train.py logged, recomputed with the model's own step."""
    with torch.no_grad():
        loss, values = model.shared_step(test)
    return {"test/loss": float(loss), **{f"test/{k}": float(v) for k, v in values.items()}}


def forecast_report(
    model: pl.LightningModule, datamodule: FunctionDataModule, out: Path, name: str, plot: bool
) -> dict[str, float]:
    """One-step and rollout scores for the LSTM and both baselines; CSV and PNG of them."""
    forecasts = forecast_test_part(model, datamodule)
    metrics = rescore_test_part(model, datamodule.test)
    metrics.update({k: v for k, v in forecasts.metrics().items() if k not in metrics})
    with atomic_text(out / "forecasts.csv") as file:
        writer = csv.writer(file)
        names = list(forecasts.one_step)
        writer.writerow(
            ["x", "actual"] + [f"{n}_one_step" for n in names] + [f"{n}_rollout" for n in names]
        )
        for i, x in enumerate(forecasts.xs.tolist()):
            writer.writerow(
                [f"{x:.1f}", float(forecasts.actual[i])]
                + [float(forecasts.one_step[n][i]) for n in names]
                + [float(forecasts.rollout[n][i]) for n in names]
            )
    print(f"\nTest part, {len(forecasts.actual)} steps; rollouts start from the first window:")
    print(forecast_table(metrics, names))
    if plot:
        plot_rollouts(
            forecasts,
            datamodule.xs,
            datamodule.ys,
            datamodule.formula,
            out / "forecast.png",
            f"{name}: one-step predictions and {len(forecasts.actual)}-step rollouts",
        )
    return metrics


def forecast_table(metrics: dict[str, float], names: list[str]) -> str:
    rows = [f"  {'model':<12}  {'one-step MSE':>12}  {'rollout MSE':>12}", f"  {'-' * 40}"]
    for name in names:
        prefix = "test/" if name == "lstm" else f"test/{name}/"
        one, rolled = metrics[prefix + "mse"], metrics[prefix + "rollout_mse"]
        rows.append(f"  {LABELS.get(name, name):<12}  {one:>12.4g}  {rolled:>12.4g}")
    return "\n".join(rows)


def step_accuracy_report(
    model: pl.LightningModule,
    datamodule: CumsumDataModule,
    out: Path,
    name: str,
    plot: bool,
    n_sequences: int,
) -> dict[str, float]:
    """Per-step labels for a few sequences, and accuracy by time-step position."""
    x, y = datamodule.test  # (N, T, 1), (N, T)
    with torch.no_grad():
        predicted = (model(x) > 0).float()  # (N, T)
    lines = []
    for i in range(min(n_sequences, len(y))):
        lines.append(f"sequence {i}:")
        lines += [
            f"Expected: {int(e)} Predicted: {int(p)}"
            for e, p in zip(y[i].tolist(), predicted[i].tolist(), strict=True)
        ]
    print("\n".join(lines))
    atomic_write(out / "predictions.txt", "\n".join(lines) + "\n")

    correct = predicted == y
    step_accuracy = correct.float().mean(dim=0)
    # Labels switch from 0 to 1 once, at the step where the running sum passes the limit.
    crosses = y.sum(dim=1) > 0
    crossing = (y.shape[1] - y.sum(dim=1)).long()  # index of the first 1
    crossing_share = torch.bincount(crossing[crosses], minlength=y.shape[1]).float() / len(y)
    offsets = torch.arange(y.shape[1]).unsqueeze(0) - crossing.unsqueeze(1)
    total_errors = max(int((~correct).sum()), 1)
    offset_error, offset_share = {}, {}
    for offset in range(-3, 4):
        at = (offsets == offset) & crosses.unsqueeze(1)
        if at.any():
            offset_error[offset] = float(1 - correct[at].float().mean())
            offset_share[offset] = int((~correct[at]).sum()) / total_errors

    metrics = rescore_test_part(model, datamodule.test)
    for t, acc in enumerate(step_accuracy.tolist(), start=1):
        metrics[f"test/acc_step_{t}"] = acc
    print("\nAccuracy by time-step position (errors cluster where the running sum crosses):")
    print(step_table(step_accuracy, correct, crossing_share))
    print("\nBy distance from the crossing step (0 = the step whose label turns 1):")
    print("  offset  error rate  share of all errors")
    for offset, rate in offset_error.items():
        print(f"  {offset:>+6d}  {100 * rate:9.2f}%  {100 * offset_share[offset]:18.1f}%")
    if plot:
        plot_step_accuracy(
            step_accuracy,
            crossing_share,
            offset_error,
            offset_share,
            out / "step_accuracy.png",
            f"{name}: where the {len(y)} test sequences' errors fall",
        )
    return metrics


def step_table(step_accuracy: Tensor, correct: Tensor, crossing_share: Tensor) -> str:
    rows = ["  step  accuracy  errors  crossing here", "  ----  --------  ------  -------------"]
    errors = (~correct).sum(dim=0).tolist()
    for t, (acc, err, share) in enumerate(
        zip(step_accuracy.tolist(), errors, crossing_share.tolist(), strict=True), start=1
    ):
        rows.append(f"  {t:>4}  {acc:8.4f}  {err:>6}  {100 * share:12.1f}%")
    return "\n".join(rows)
