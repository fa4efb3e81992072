"""Rolling-origin backtests with NeuralForecast's cross-validation semantics.

`backtest.windows=N backtest.step=S backtest.refit=K`: N forecasts of `data.horizon` points,
the last one ending at the end of the part backtested, each S points after the one before.
`refit: false` fits once, on the points before the first window; `true` refits before every
window; an integer K refits every K windows. A model is never refitted in between: it reads
the newer points as inputs (the LSTM) or through statsforecast's `forward` (the baselines).
Every fit sees only points before its window, and picks its checkpoint on its own
validation part, the last `data.val_size` of those points.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from lstm_lab.config import instantiate
from lstm_lab.errors import ConfigError
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.backtest_plot import plot_backtest
from lstm_lab.tasks.forecasts import (
    Forecasts,
    forecasts_at,
    model_forecasts,
    seasonal_naive_mae,
    verdict,
)
from lstm_lab.tasks.series_intervals import (
    IntervalSettings,
    adaptive_margins,
    bands_frame,
    bands_of,
    interval_scores,
    join_bands,
    window_calibration,
    window_intervals,
)
from lstm_lab.validation import check_backtest

log = logging.getLogger(__name__)
MODEL = "lstm"


def refit_schedule(windows: int, refit: bool | int) -> list[int]:
    """For each window, the window whose start the model forecasting it was fitted at."""
    if refit is True:
        every = 1
    elif refit is False or refit == 0:
        every = windows
    else:
        every = refit
    return [w - w % every for w in range(windows)]


def origins_of(n_points: int, end: int, horizon: int, windows: int, step: int) -> np.ndarray:
    """The last observed point of each window; the last window ends at point `end`."""
    last = end - horizon
    origins = last - step * np.arange(windows - 1, -1, -1)
    if origins[0] < 0:
        raise ConfigError(
            f"backtest.windows={windows} of data.horizon={horizon} points, backtest.step={step} "
            f"apart, reach before the start of the {n_points}-point series: use fewer windows "
            "or a smaller step."
        )
    return origins


def fit_window(cfg: DictConfig, train_end: int) -> tuple[pl.LightningModule, Any]:
    """A model trained as the run's, on the points up to `train_end` only."""
    datamodule = instantiate(cfg.data, train_end=train_end, test_start=train_end + 1, keep="all")
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
    model = instantiate(cfg.model, **datamodule.model_arguments)
    model.gradient_clip = (
        cfg.trainer.get("gradient_clip_val"),
        cfg.trainer.get("gradient_clip_algorithm"),
    )
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = pl.callbacks.ModelCheckpoint(
            dirpath=folder, monitor="val/loss", mode="min", save_top_k=1
        )
        trainer = instantiate(
            cfg.trainer,
            callbacks=[checkpoint],
            logger=False,
            enable_progress_bar=False,
            default_root_dir=folder,
            gradient_clip_val=None,
            gradient_clip_algorithm=None,
        )
        trainer.fit(model, datamodule=datamodule)
        if checkpoint.best_model_path:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            model.load_state_dict(state["state_dict"])
    return model, datamodule


def backtest(cfg: DictConfig, out: Path, baselines: list[str]) -> dict[str, float]:
    """backtest/* metrics for the LSTM and every baseline; forecasts, errors and a PNG in `out`."""
    windows, step, refit, part = check_backtest(cfg.backtest)
    if not windows:
        return {}
    reference = instantiate(cfg.data)
    series, horizon = reference.series, reference.horizon
    end = len(series) - 1 if part == "all" else reference.train_end
    origins = origins_of(len(series), end, horizon, windows, step)
    schedule = refit_schedule(windows, refit)
    fits = [int(origins[w]) for w in schedule]
    lstm = np.zeros((windows, horizon))
    groups = []
    for start in sorted(set(schedule)):
        members = [w for w in range(windows) if schedule[w] == start]
        model, datamodule = fit_window(cfg, int(origins[start]))
        lstm[members] = model_forecasts(model, datamodule, origins[members])
        groups.append((members, model, datamodule))
        fitted_to = series.time[origins[start]].date()
        log.info("backtest: a fit up to %s forecasts %d of the windows", fitted_to, len(members))
    predicted = {MODEL: lstm}
    predicted |= stat_baselines.forecast(
        baselines, series.values, fits, origins, horizon, reference.season
    )
    forecasts = forecasts_at(reference, origins, predicted, "all")
    scale = seasonal_naive_mae(series.values[: fits[0] + 1], reference.season)
    metrics = forecasts.metrics("backtest", scale, MODEL)
    bands = {}
    if cfg.get("intervals"):
        settings = IntervalSettings.from_config(cfg.intervals)
        bands = backtest_bands(settings, groups, series.values, origins, fits, predicted)
        metrics |= interval_scores(forecasts, bands, "backtest")
    write_backtest(reference, forecasts, scale, out, f"{cfg.name}: backtest", bands)
    if "seasonal_naive" in baselines:
        log.info(verdict(metrics, "backtest"))
    return metrics


def backtest_bands(
    settings: IntervalSettings,
    groups: list,
    values: np.ndarray,
    origins: np.ndarray,
    fits: list[int],
    predicted: dict[str, np.ndarray],
) -> dict:
    """Every window's bands, per model: each calibrated on the rolling origins whose targets
    end by the window's origin, with the models that forecast the window; under
    `intervals.adaptive=aci` each window's level then moves with the earlier windows' misses."""
    if settings.adaptive == "aci":
        return aci_bands(settings, groups, values, origins, fits, predicted)
    parts = []
    for members, model, datamodule in groups:
        baselines = {k: v[members] for k, v in predicted.items() if k != MODEL}
        window_origins = origins[members]
        bands = window_intervals(
            model, datamodule, values, window_origins, window_origins,
            fits[members[0]], baselines, settings,
        )  # fmt: skip
        parts.append((members, bands))
    return join_bands(parts, len(origins))


def aci_bands(
    settings: IntervalSettings,
    groups: list,
    values: np.ndarray,
    origins: np.ndarray,
    fits: list[int],
    predicted: dict[str, np.ndarray],
) -> dict:
    """Every window's ACI bands, per model, walking the windows in time order (docs/intervals.md);
    a window's misses count once its last target is observed, before a later window's origin."""
    calibration: dict[str, list] = {}
    outputs: dict[str, np.ndarray] = {}
    for members, model, datamodule in groups:
        baselines = {k: v[members] for k, v in predicted.items() if k != MODEL}
        window_origins = origins[members]
        got, out = window_calibration(
            model, datamodule, values, window_origins, window_origins,
            fits[members[0]], baselines, settings,
        )  # fmt: skip
        for name, per_window in got.items():
            calibration.setdefault(name, [None] * len(origins))
            for w, scores in zip(members, per_window, strict=True):
                calibration[name][w] = scores
            rows = outputs.setdefault(name, np.zeros((len(origins), *out[name].shape[1:])))
            rows[members] = out[name]
    horizon = outputs[MODEL].shape[1]
    actual = values[origins[:, None] + np.arange(1, horizon + 1)]
    models = {MODEL: groups[-1][1]}
    margins = adaptive_margins(calibration, outputs, actual, origins, settings, models)
    return {
        name: bands_of(name, outputs[name], margins[name], settings, models.get(name))[1]
        for name in outputs
    }


def write_backtest(
    datamodule, forecasts: Forecasts, scale: float, out: Path, title: str, bands: dict
) -> None:
    """forecasts.csv (every origin, step and model), errors_by_horizon.csv and backtest.png."""
    out.mkdir(parents=True, exist_ok=True)
    frame = forecasts.to_frame()
    if bands:  # lower_<L>, upper_<L> per level (docs/intervals.md)
        frame = frame.assign(**bands_frame(forecasts, bands))
    frame.to_csv(out / "forecasts.csv", index=False)
    errors = forecasts.by_horizon(scale)
    errors.to_csv(out / "errors_by_horizon.csv", index=False)
    plot_backtest(datamodule, forecasts, errors, out / "backtest.png", title, bands.get(MODEL))
