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
from lstm_lab.tasks.series_intervals import (
    IntervalSettings,
    bands_frame,
    interval_scores,
    interval_table,
    window_intervals,
)
from lstm_lab.tasks.series_plot import plot_series_forecasts

log = logging.getLogger(__name__)
MODEL = "lstm"


def model_forecasts(model: pl.LightningModule, datamodule, origins: np.ndarray) -> np.ndarray:
    """(n, H) forecasts of the model from each origin, in the series' units."""
    model.eval()
    with torch.no_grad():
        x = datamodule.inputs(origins).to(model.device)  # (n, L, F)
        out = model(x).double().cpu().numpy()  # (n, H), or (n, H, Q) for a quantile model
        return model.point_of(out)  # (n, H)


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

    def __init__(self, intervals: dict | None = None) -> None:
        self._cache: tuple[object, object, Forecasts] | None = None
        # The run's `intervals` block (docs/intervals.md); None reports point forecasts only.
        self.intervals = IntervalSettings.from_config(intervals) if intervals else None
        self._bands: tuple[object, object, dict] | None = None

    def test_bands(self, model: pl.LightningModule, datamodule) -> dict:
        """Per model, level -> (lower, upper) (n, H) around the test forecasts, calibrated on
        rolling origins inside the training and validation parts only."""
        if self.intervals is None:
            return {}
        if self._bands and self._bands[0] is model and self._bands[1] is datamodule:
            return self._bands[2]
        forecasts = self.test_forecasts(model, datamodule)
        end = datamodule.train_end
        baselines = {k: v for k, v in forecasts.predicted.items() if k != MODEL}
        origins = datamodule.test_origins
        bands = window_intervals(
            model, datamodule, datamodule.series.values, origins,
            np.full(len(origins), end), end, baselines, self.intervals,
        )  # fmt: skip
        self._bands = (model, datamodule, bands)
        return bands

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
        if self.intervals is not None:
            metrics |= interval_scores(forecasts, self.test_bands(model, datamodule), "test")
        log.info(verdict(metrics, "test"))
        return metrics

    def plot_predictions(
        self, model: pl.LightningModule, datamodule, path: Path, title: str
    ) -> Path:
        """The series, the test points, the LSTM's and the baselines' forecasts of them."""
        return plot_series_forecasts(
            datamodule,
            self.test_forecasts(model, datamodule),
            path,
            title,
            self.test_bands(model, datamodule).get(MODEL),
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
        frame = forecasts.to_frame()
        if self.intervals is not None:
            frame = frame.assign(**bands_frame(forecasts, self.test_bands(model, datamodule)))
            names = list(forecasts.predicted)
            print(f"Intervals on the test part ({int(forecasts.scored.sum())} points):")
            print(interval_table(metrics, names, self.intervals.levels, "test"))
        frame.to_csv(out / "forecasts.csv", index=False)
        if plot:
            self.plot_predictions(
                model, datamodule, out / "forecasts.png", f"{name}: test forecasts"
            )
        print(verdict(metrics, "test"))
        return metrics
