"""SeriesTask: a real series' forecasts scored on the protocol's target points, beside
statsforecast's baselines; the run's PNG; eval.py's report; rolling-origin backtests."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl

from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.base import Task
from lstm_lab.tasks.forecasts import (
    Forecasts,
    forecasts_at,
    model_forecasts,
    seasonal_naive_mae,
    verdict,
)
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


def mase_scale(datamodule: Any) -> float:
    """MASE's denominator: seasonal naive's in-sample MAE on the training part."""
    train = datamodule.training_values()[:, 0].numpy()
    return seasonal_naive_mae(train, datamodule.season)


class SeriesTask(Task):
    """Real-series forecasting: test scores on the protocol's points for the LSTM and every
    statistical baseline, the forecast figure, eval.py's CSV of forecasts, backtests."""

    def __init__(self, baselines: list[str], intervals: dict | None = None) -> None:
        self.baselines = stat_baselines.check_names(baselines)
        self._cache: tuple[object, object, Forecasts] | None = None
        # The run's `intervals` block (docs/intervals.md); None reports point forecasts only.
        self.intervals = IntervalSettings.from_config(intervals) if intervals else None
        self._bands: tuple[object, object, dict] | None = None

    def test_bands(self, model: pl.LightningModule, datamodule: Any) -> dict:
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

    def test_forecasts(self, model: pl.LightningModule, datamodule: Any) -> Forecasts:
        """The test origins' forecasts: the LSTM's and the baselines' fitted on training only."""
        if self._cache and self._cache[0] is model and self._cache[1] is datamodule:
            return self._cache[2]
        origins = datamodule.test_origins
        predicted = {MODEL: model_forecasts(model, datamodule, origins)}
        predicted |= stat_baselines.forecast(
            self.baselines,
            datamodule.series.values,
            [datamodule.train_end] * len(origins),
            origins,
            datamodule.horizon,
            datamodule.season,
        )
        forecasts = forecasts_at(datamodule, origins, predicted, datamodule.keep)
        self._cache = (model, datamodule, forecasts)
        return forecasts

    def extra_test_metrics(self, model: pl.LightningModule, datamodule: Any) -> dict[str, float]:
        """test/mape, smape, mase, mae, rmse for the LSTM and test/<baseline>/... for each."""
        forecasts = self.test_forecasts(model, datamodule)
        metrics = forecasts.metrics("test", mase_scale(datamodule), MODEL)
        if "seasonal_naive" in self.baselines:
            naive = metrics["test/seasonal_naive/mae"]
            metrics["test/beats_seasonal_naive"] = float(metrics["test/mae"] < naive)
            log.info(verdict(metrics, "test"))
        if self.intervals is not None:
            metrics |= interval_scores(forecasts, self.test_bands(model, datamodule), "test")
        return metrics

    def plot_predictions(
        self, model: pl.LightningModule, datamodule: Any, path: Path, title: str
    ) -> Path:
        """The series, the test points, the LSTM's and the baselines' forecasts of them."""
        forecasts = self.test_forecasts(model, datamodule)
        bands = self.test_bands(model, datamodule).get(MODEL)
        return plot_series_forecasts(datamodule, forecasts, path, title, bands)

    def evaluate(
        self,
        model: pl.LightningModule,
        datamodule: Any,
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
            title = f"{name}: test forecasts"
            self.plot_predictions(model, datamodule, out / "forecasts.png", title)
        if "seasonal_naive" in self.baselines:
            print(verdict(metrics, "test"))
        return metrics

    def backtest(self, cfg: Any, out: Path) -> dict[str, float]:
        """backtest/* metrics when `backtest.windows` > 0 (lstm_lab/tasks/backtest.py)."""
        from lstm_lab.tasks.backtest import backtest

        if not cfg.get("backtest"):
            return {}
        return backtest(cfg, out, self.baselines)
