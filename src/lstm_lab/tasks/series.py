"""SeriesTask: a real series' forecasts scored on the protocol's target points, beside
statsforecast's baselines; the run's PNG; eval.py's report."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.base import Task
from lstm_lab.tasks.forecasts import Forecasts, seasonal_naive_mae
from lstm_lab.tasks.series_plot import plot_series_forecasts

log = logging.getLogger(__name__)
MODEL = "lstm"


def model_forecasts(model: pl.LightningModule, datamodule, origins: np.ndarray) -> np.ndarray:
    """(n, H) forecasts of the model from each origin, in the series' units."""
    model.eval()
    with torch.no_grad():
        x = datamodule.inputs(origins).to(model.device)  # (n, L, F)
        return model(x).double().cpu().numpy()  # (n, H)


def forecasts_at(
    datamodule, origins: np.ndarray, predicted: dict[str, np.ndarray], keep: str
) -> Forecasts:
    """Forecasts from `origins` with their actual values (NaN past the end of the series)."""
    series, horizon = datamodule.series, datamodule.horizon
    idx = origins[:, None] + np.arange(1, horizon + 1)  # (n, H)
    inside = idx < len(series)
    actual = np.where(inside, series.values[np.minimum(idx, len(series) - 1)], np.nan)
    future = series.future_time(horizon).to_numpy()
    times = np.concatenate([series.time.to_numpy(), future])[idx]
    return Forecasts(series.time[origins], times, actual, predicted, keep)


def verdict(metrics: dict[str, float], prefix: str) -> str:
    """One sentence: does the LSTM beat seasonal naive on this part (by MAE)?"""
    ours, naive = metrics[f"{prefix}/mae"], metrics[f"{prefix}/seasonal_naive/mae"]
    beats = "beats" if ours < naive else "does NOT beat"
    return (
        f"The LSTM {beats} seasonal naive on the {prefix} part: MAE {ours:.4g} against "
        f"{naive:.4g} (MAPE {metrics[f'{prefix}/mape']:.3g}% against "
        f"{metrics[f'{prefix}/seasonal_naive/mape']:.3g}%)."
    )


class SeriesTask(Task):
    """Real-series forecasting: test scores on the protocol's points for the LSTM and every
    statistical baseline, the forecast figure, and eval.py's CSV of forecasts."""

    def __init__(self) -> None:
        self._cache: tuple[object, object, Forecasts] | None = None

    def test_forecasts(self, model: pl.LightningModule, datamodule) -> Forecasts:
        """The test origins' forecasts: the LSTM's and the baselines' fitted on training only."""
        if self._cache and self._cache[0] is model and self._cache[1] is datamodule:
            return self._cache[2]
        origins = datamodule.test_origins
        predicted = {MODEL: model_forecasts(model, datamodule, origins)}
        predicted |= stat_baselines.forecast(
            datamodule.series.values,
            [datamodule.train_end] * len(origins),
            origins,
            datamodule.horizon,
            datamodule.season,
        )
        forecasts = forecasts_at(datamodule, origins, predicted, datamodule.keep)
        self._cache = (model, datamodule, forecasts)
        return forecasts

    def mase_scale(self, datamodule) -> float:
        train = datamodule.training_values()[:, 0].numpy()
        return seasonal_naive_mae(train, datamodule.season)

    def extra_test_metrics(self, model: pl.LightningModule, datamodule) -> dict[str, float]:
        """test/mape, smape, mase, mae, rmse for the LSTM and test/<baseline>/... for each."""
        forecasts = self.test_forecasts(model, datamodule)
        metrics = forecasts.metrics("test", self.mase_scale(datamodule), MODEL)
        metrics["test/beats_seasonal_naive"] = float(
            metrics["test/mae"] < metrics["test/seasonal_naive/mae"]
        )
        log.info(verdict(metrics, "test"))
        return metrics

    def plot_predictions(
        self, model: pl.LightningModule, datamodule, path: Path, title: str
    ) -> Path:
        """The series, the test points, the LSTM's and the baselines' forecasts of them."""
        return plot_series_forecasts(
            datamodule, self.test_forecasts(model, datamodule), path, title
        )

    def evaluate(
        self,
        model: pl.LightningModule,
        datamodule,
        out: Path,
        name: str,
        plot: bool,
        n_sequences: int,
    ) -> dict[str, float]:
        """The test scores again, every forecast as CSV and the PNG, under `out`."""
        forecasts = self.test_forecasts(model, datamodule)
        metrics = self.extra_test_metrics(model, datamodule)
        forecasts.to_frame().to_csv(out / "forecasts.csv", index=False)
        if plot:
            self.plot_predictions(
                model, datamodule, out / "forecasts.png", f"{name}: test forecasts"
            )
        print(verdict(metrics, "test"))
        return metrics
