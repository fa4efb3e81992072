"""Prediction intervals of the series task: calibrated inside the training and validation
parts for the LSTM and every baseline, then scored wherever forecasts are scored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from lstm_lab.errors import ConfigError
from lstm_lab.intervals.conformal import (
    Bands,
    Calibration,
    calibrate,
    calibrate_quantiles,
    rolling_origins,
)
from lstm_lab.intervals.levels import check_levels, level_name
from lstm_lab.intervals.metrics import interval_metrics
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.forecasts import Forecasts
from lstm_lab.validation import check_choice, check_int

# conformal: split-conformal around point forecasts; quantile: a quantile model's own bands;
# cqr: those bands conformalised. Baselines are always conformal.
METHODS = ("conformal", "quantile", "cqr")


@dataclass(frozen=True)
class IntervalSettings:
    """The `intervals` config: levels (percent), method, calibration windows and their step."""

    levels: tuple[float, ...]
    method: str
    windows: int | None
    step: int

    @classmethod
    def from_config(cls, cfg: Any) -> IntervalSettings:
        windows = cfg.get("windows")
        return cls(
            levels=check_levels(cfg.get("levels")),
            method=check_choice("intervals.method", cfg.get("method"), METHODS),
            windows=None if windows is None else check_int("intervals.windows", windows),
            step=check_int("intervals.step", cfg.get("step")),
        )


def model_outputs(model: pl.LightningModule, inputs: torch.Tensor) -> np.ndarray:
    """(n, H) point forecasts, or (n, H, Q) quantiles of a quantile model, in data units."""
    model.eval()
    with torch.no_grad():
        return model(inputs.to(model.device)).double().cpu().numpy()


def quantile_bands(model: pl.LightningModule, quantiles: np.ndarray) -> Bands:
    """level -> (lower, upper) (n, H) from a quantile model's (n, H, Q) outputs."""
    return {
        lv: (quantiles[..., lo], quantiles[..., hi]) for lv, (lo, hi) in model.band_index.items()
    }


@dataclass
class CalibratedIntervals:
    """Per model, how its intervals around a forecast are made, and on how many windows."""

    settings: IntervalSettings
    calibrations: dict[str, Calibration]
    origins: np.ndarray  # the calibration windows' origins

    def bands(self, name: str, point: np.ndarray, quantiles: np.ndarray | None, model) -> Bands:
        """level -> (lower, upper) for forecasts `point` (n, H) of model `name`."""
        if quantiles is not None and self.settings.method in ("quantile", "cqr"):
            own = quantile_bands(model, quantiles)
            if self.settings.method == "quantile":
                return own
            return self.calibrations[name].widen(own)
        return self.calibrations[name].bands(point)


def calibrate_series(
    model: pl.LightningModule,
    datamodule,
    settings: IntervalSettings,
    end: int | None = None,
    baselines: bool = True,
) -> CalibratedIntervals:
    """Calibration from rolling origins whose targets all lie at or before `end`
    (default: train_end, so nothing of the test part), the models fitted as they are.

    Only `series.values[: end + 1]` is handed to the baselines and read for targets, and the
    LSTM's input windows end at the origins: the test part cannot reach a margin.
    """
    end = datamodule.train_end if end is None else end
    horizon, lookback = datamodule.horizon, datamodule.lookback
    origins = np.asarray(
        rolling_origins(end + 1, horizon, lookback - 1, settings.step, settings.windows)
    )
    if len(origins) == 0:
        raise ConfigError(
            f"no calibration window fits before point {end}: data.lookback={lookback} and "
            f"data.horizon={horizon} leave none; shorten them or move data.train_end later."
        )
    history = np.asarray(datamodule.series.values[: end + 1], dtype=np.float64)
    actual = history[origins[:, None] + np.arange(1, horizon + 1)]  # (n, H)
    out = model_outputs(model, datamodule.inputs(origins))  # (n, H) or (n, H, Q)
    calibrations = {}
    if out.ndim == 3 and settings.method == "cqr":
        calibrations["lstm"] = calibrate_quantiles(
            quantile_bands(model, out), actual, settings.levels
        )
    else:
        point = model.point_of(out) if out.ndim == 3 else out
        calibrations["lstm"] = calibrate(point, actual, settings.levels)
    if baselines:
        predicted = stat_baselines.forecast(
            history, [end] * len(origins), origins, horizon, datamodule.season
        )
        for name, forecasts in predicted.items():
            calibrations[name] = calibrate(forecasts, actual, settings.levels)
    return CalibratedIntervals(settings, calibrations, origins)


def interval_scores(
    forecasts: Forecasts,
    bands: dict[str, Bands],
    prefix: str,
    model: str = "lstm",
) -> dict[str, float]:
    """`<prefix>/coverage_<L>`, width, winkler and crps for `model`, `<prefix>/<name>/...` for
    every other, over the points the protocol scores."""
    mask = forecasts.scored
    out = {}
    for name, by_level in bands.items():
        key = prefix if name == model else f"{prefix}/{name}"
        masked = {lv: (lo[mask], hi[mask]) for lv, (lo, hi) in by_level.items()}
        out |= interval_metrics(
            forecasts.actual[mask], forecasts.predicted[name][mask], masked, f"{key}/"
        )
    return out


def interval_table(metrics: dict[str, float], names: list[str], levels, prefix: str) -> str:
    """Coverage / width / Winkler per level and CRPS, one row per model, for eval.py."""
    head = "".join(f"  {'cov/width/winkler ' + level_name(lv) + '%':>30}" for lv in levels)
    rows = [f"  {'model':<16}{head}  {'CRPS':>9}"]
    for name in names:
        key = prefix if name == "lstm" else f"{prefix}/{name}"
        cells = "".join(
            f"  {metrics[f'{key}/coverage_{level_name(lv)}']:>8.0%} "
            f"{metrics[f'{key}/width_{level_name(lv)}']:>9.4g} "
            f"{metrics[f'{key}/winkler_{level_name(lv)}']:>10.4g}"
            for lv in levels
        )
        rows.append(f"  {name:<16}{cells}  {metrics[f'{key}/crps']:>9.4g}")
    return "\n".join(rows)
