"""Next-value forecasting of a generated function (seed example 1): rollouts and baselines
beside the LSTM's one-step scores, the seed's figure, and eval.py's forecast report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pytorch_lightning as pl
import torch

from lstm_lab.eval_plots import plot_rollouts
from lstm_lab.forecast import LABELS, forecast_test_part
from lstm_lab.io import atomic_text
from lstm_lab.models.rollout import rollout
from lstm_lab.plotting import plot_forecast
from lstm_lab.tasks.base import Task, rescore_test_part

if TYPE_CHECKING:
    from lstm_lab.data.function import FunctionDataModule


class NextValueTask(Task):
    """Windows of a series predict its next value; scored one step ahead and rolled out."""

    def extra_test_metrics(
        self, model: pl.LightningModule, datamodule: FunctionDataModule
    ) -> dict[str, float]:
        """Rollout and baseline scores beside the LSTM's (see lstm_lab/forecast.py)."""
        return forecast_test_part(model, datamodule).metrics()

    def plot_predictions(
        self, model: pl.LightningModule, datamodule: FunctionDataModule, path: Path, title: str
    ) -> Path:
        """The seed's figure: the whole series, one-step predictions and a rollout."""
        x, y = datamodule.test
        with torch.no_grad():
            prediction = model(x.to(model.device)).cpu()
            rolled = rollout(model, x[:1].to(model.device), len(y))[0].cpu()
        predictions = {
            "LSTM one-step prediction": prediction,
            "LSTM rollout from the first test window": rolled,
        }
        label = f"actual f(x) = {datamodule.formula}"
        return plot_forecast(
            datamodule.xs, datamodule.ys, datamodule.test_xs, predictions, path, title, label
        )

    def evaluate(
        self,
        model: pl.LightningModule,
        datamodule: FunctionDataModule,
        out: Path,
        name: str,
        plot: bool,
        n_sequences: int,
    ) -> dict[str, float]:
        """One-step and rollout scores for the LSTM and both baselines; CSV and PNG of them."""
        return forecast_report(model, datamodule, out, name, plot)


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
