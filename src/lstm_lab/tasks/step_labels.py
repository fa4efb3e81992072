"""Per-step labels of random sequences (seed examples 2 and 3): the run's figure of a few test
sequences, and eval.py's report of accuracy by time step and by distance from the crossing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytorch_lightning as pl
import torch
from torch import Tensor

from lstm_lab.eval_plots import plot_step_accuracy
from lstm_lab.io import atomic_write
from lstm_lab.plotting import plot_sequences
from lstm_lab.tasks.base import Task, rescore_test_part

if TYPE_CHECKING:
    from lstm_lab.data.cumsum import CumsumDataModule


class StepLabelsTask(Task):
    """A label for every step of a sequence: 1 once the running sum passes a limit."""

    def plot_predictions(
        self, model: pl.LightningModule, datamodule: CumsumDataModule, path: Path, title: str
    ) -> Path:
        """Four test sequences: running sum, expected labels and predicted probabilities."""
        x, y = datamodule.test[0][:4], datamodule.test[1][:4]  # (4, T, 1), (4, T)
        with torch.no_grad():
            prob = torch.sigmoid(model(x.to(model.device))).cpu()  # (4, T)
        limit = datamodule.threshold_fraction * datamodule.n_timesteps
        return plot_sequences(x.squeeze(-1), y, prob, limit, path, title)

    def evaluate(
        self,
        model: pl.LightningModule,
        datamodule: CumsumDataModule,
        out: Path,
        name: str,
        plot: bool,
        n_sequences: int,
    ) -> dict[str, float]:
        """Per-step labels for a few sequences, and accuracy by time-step position."""
        return step_accuracy_report(model, datamodule, out, name, plot, n_sequences)


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
