"""Prediction intervals of the series task: split-conformal margins per horizon step from
rolling origins before each forecast, for the LSTM and every baseline, and their scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from lstm_lab.errors import ConfigError
from lstm_lab.intervals.adaptive import aci_margins
from lstm_lab.intervals.conformal import Bands, conformal_quantile, rolling_origins
from lstm_lab.intervals.levels import check_levels, level_name
from lstm_lab.intervals.metrics import interval_metrics
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.forecasts import Forecasts
from lstm_lab.validation import check_choice, check_float, check_int

# conformal: split-conformal around point forecasts; quantile: a quantile model's own bands;
# cqr: those bands conformalised (Romano et al. 2019). Baselines are always conformal.
METHODS = ("conformal", "quantile", "cqr")
# none: split-conformal margins as calibrated; aci: backtest windows' levels adapted from the
# misses of earlier windows (adaptive conformal inference, lstm_lab.intervals.adaptive).
ADAPTIVE = ("none", "aci")
MODEL = "lstm"

# calibration origins (m,) -> forecasts by model name: (m, H) points, or (m, H, Q) quantiles
OriginForecasts = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class IntervalSettings:
    """The `intervals` config: levels (percent), method, calibration windows and their step,
    and the backtests' adaptive level update with its step size gamma."""

    levels: tuple[float, ...]
    method: str
    windows: int | None
    step: int
    adaptive: str = "none"
    gamma: float = 0.01

    @classmethod
    def from_config(cls, cfg: Any) -> IntervalSettings:
        windows = cfg.get("windows")
        method = check_choice("intervals.method", cfg.get("method"), METHODS)
        adaptive = check_choice("intervals.adaptive", cfg.get("adaptive", "none"), ADAPTIVE)
        if adaptive != "none" and method == "quantile":
            raise ConfigError(
                f"intervals.adaptive={adaptive} adapts conformal margins and "
                "intervals.method=quantile has none: use intervals.method=cqr or conformal."
            )
        return cls(
            levels=check_levels(cfg.get("levels")),
            method=method,
            windows=None if windows is None else check_int("intervals.windows", windows),
            step=check_int("intervals.step", cfg.get("step")),
            adaptive=adaptive,
            gamma=check_float("intervals.gamma", cfg.get("gamma", 0.01), 0.0, 1.0, low_open=True),
        )


def model_outputs(model: pl.LightningModule, inputs: torch.Tensor) -> np.ndarray:
    """(n, H) point forecasts, or (n, H, Q) quantiles of a quantile model, in data units."""
    model.eval()
    with torch.no_grad():
        return model(inputs.to(model.device)).double().cpu().numpy()


def check_quantile_setup(model: pl.LightningModule, settings: IntervalSettings) -> None:
    """A quantile method needs a quantile model trained for the same levels."""
    if settings.method == "conformal":
        return
    levels = tuple(getattr(model, "levels", ()) or ())
    if not levels:
        raise ConfigError(
            f"intervals.method={settings.method} needs a quantile model: add model.loss=quantile, "
            "or use intervals.method=conformal."
        )
    if levels != settings.levels:
        raise ConfigError(
            f"intervals.levels={list(settings.levels)} differ from the quantile model's "
            f"model.levels={list(levels)}: set both to the same list."
        )


def own_bands(model: pl.LightningModule, quantiles: np.ndarray) -> Bands:
    """level -> (lower, upper), each (..., H), from a quantile model's (..., H, Q) outputs;
    levels ascending, as IntervalSettings holds them."""
    index = model.band_index
    return {
        lv: (quantiles[..., index[lv][0]], quantiles[..., index[lv][1]]) for lv in sorted(index)
    }


def scores_of(outputs: np.ndarray, actual: np.ndarray, model, method: str) -> np.ndarray:
    """Nonconformity scores (m, H): absolute errors, or CQR's max(lo - y, y - hi) per level
    stacked first (L, m, H) for a quantile model under `cqr`."""
    if outputs.ndim == 3 and method == "cqr":
        bands = own_bands(model, outputs)
        return np.stack([np.maximum(lo - actual, actual - hi) for lo, hi in bands.values()])
    point = model.point_of(outputs) if outputs.ndim == 3 else outputs
    return np.abs(actual - point)


def scores_before(
    forecast_from: OriginForecasts,
    values: np.ndarray,
    ends: np.ndarray,
    horizon: int,
    first: int,
    settings: IntervalSettings,
    models: dict[str, Any],
) -> dict[str, list[np.ndarray]]:
    """Per model name, for forecast w, the nonconformity scores (m_w, H) (CQR: (L, m_w, H)) of
    the rolling origins whose targets all lie at or before point `ends[w]`.

    Only `values[: max(ends) + 1]` is read, for targets; every origin's forecast is made once
    (`forecast_from`) and shared by the forecasts whose calibration includes it.
    """
    ends = np.asarray(ends, dtype=np.int64)
    per_end = {}
    for end in np.unique(ends):
        origins = rolling_origins(int(end) + 1, horizon, first, settings.step, settings.windows)
        if not origins:
            raise ConfigError(
                f"no calibration window fits before point {end}: data.lookback and "
                f"data.horizon={horizon} leave none; shorten them or train on more of the series."
            )
        per_end[int(end)] = np.asarray(origins)
    union = np.unique(np.concatenate(list(per_end.values())))
    history = np.asarray(values[: int(ends.max()) + 1], dtype=np.float64)
    actual = history[union[:, None] + np.arange(1, horizon + 1)]  # (m, H)
    position = {int(o): i for i, o in enumerate(union)}
    rows = {end: [position[int(o)] for o in origins] for end, origins in per_end.items()}
    out = {}
    for name, outputs in forecast_from(union).items():
        method = settings.method if name == MODEL else "conformal"
        scores = scores_of(outputs, actual, models.get(name), method)  # (m, H) or (L, m, H)
        by_end = {end: scores[..., r, :] for end, r in rows.items()}
        out[name] = [by_end[int(end)] for end in ends]
    return out


def margins_of(scores: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Split-conformal margins (L, H) from calibration scores (m, H), or CQR's (L, m, H)."""
    return np.stack(
        [
            conformal_quantile(scores[i] if scores.ndim == 3 else scores, lv)
            for i, lv in enumerate(levels)
        ]
    )


def margins_before(
    forecast_from: OriginForecasts,
    values: np.ndarray,
    ends: np.ndarray,
    horizon: int,
    first: int,
    settings: IntervalSettings,
    models: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Per model name, margins (n, L, H): for forecast w, the split-conformal quantiles of
    `scores_before`, calibrated on the rolling origins whose targets end by point `ends[w]`."""
    got = scores_before(forecast_from, values, ends, horizon, first, settings, models)
    return {name: stack_margins(rows, settings.levels) for name, rows in got.items()}


def stack_margins(per_forecast: list[np.ndarray], levels: tuple[float, ...]) -> np.ndarray:
    """(n, L, H) margins of n forecasts' calibration scores; forecasts sharing one score array
    (the same calibration end) share its quantiles."""
    cache = {id(s): margins_of(s, levels) for s in per_forecast}
    return np.stack([cache[id(s)] for s in per_forecast])


def adaptive_margins(
    calibration: dict[str, list[np.ndarray]],
    outputs: dict[str, np.ndarray],
    actual: np.ndarray,
    origins: np.ndarray,
    settings: IntervalSettings,
    models: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Per model name, ACI margins (W, L, H) of W backtest forecasts in time order: their
    calibration scores (`scores_before`), outputs (W, H[, Q]) and actual values (W, H), each
    forecast's level moved by the misses of the forecasts whose targets end by its origin."""
    horizon = actual.shape[1]
    out = {}
    for name, per_forecast in calibration.items():
        method = settings.method if name == MODEL else "conformal"
        own = scores_of(outputs[name], actual, models.get(name), method)  # (W, H) or (L, W, H)
        levels = []
        for i, lv in enumerate(settings.levels):
            calib = [s[i] if s.ndim == 3 else s for s in per_forecast]
            margins, _ = aci_margins(
                calib, own[i] if own.ndim == 3 else own, origins, horizon, lv, settings.gamma
            )
            levels.append(margins)
        out[name] = np.stack(levels, axis=1)
    return out


def bands_of(
    name: str,
    outputs: np.ndarray,
    margins: np.ndarray | None,
    settings: IntervalSettings,
    model: Any,
) -> tuple[np.ndarray, Bands]:
    """(point (n, H), level -> (lower, upper)) for forecasts `outputs` (n, H[, Q]) of `name`,
    with its margins (n, L, H)."""
    if outputs.ndim == 3:
        point = model.point_of(outputs)
        own = own_bands(model, outputs)
        if settings.method == "quantile":
            return point, own
        if settings.method == "cqr":
            return point, {
                lv: (own[lv][0] - margins[:, i], own[lv][1] + margins[:, i])
                for i, lv in enumerate(settings.levels)
            }
    else:
        point = outputs
    return point, {
        lv: (point - margins[:, i], point + margins[:, i]) for i, lv in enumerate(settings.levels)
    }


def interval_scores(
    forecasts: Forecasts, bands: dict[str, Bands], prefix: str, model: str = MODEL
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
    """Coverage / mean width / Winkler per level and CRPS, one row per model, for eval.py."""
    head = "".join(f"  {level_name(lv) + '%: cover  width  Winkler':>30}" for lv in levels)
    rows = [f"  {'model':<16}{head}  {'CRPS':>9}"]
    for name in names:
        key = prefix if name == MODEL else f"{prefix}/{name}"
        cells = "".join(
            f"  {metrics[f'{key}/coverage_{level_name(lv)}']:>12.0%}"
            f" {metrics[f'{key}/width_{level_name(lv)}']:>7.4g}"
            f" {metrics[f'{key}/winkler_{level_name(lv)}']:>8.4g}"
            for lv in levels
        )
        rows.append(f"  {name:<16}{cells}  {metrics[f'{key}/crps']:>9.4g}")
    return "\n".join(rows)


def calibration_forecasts(
    model: pl.LightningModule,
    datamodule,
    values: np.ndarray,
    fit_end: int,
    baselines: list[str],
) -> OriginForecasts:
    """Forecasts from calibration origins: the LSTM as trained, each baseline fitted on the
    points up to `fit_end` and reading later ones without refitting, as the forecasts do."""

    def forecast_from(origins: np.ndarray) -> dict[str, np.ndarray]:
        out = {MODEL: model_outputs(model, datamodule.inputs(origins))}
        fits = [fit_end] * len(origins)
        return out | stat_baselines.forecast(
            baselines, values, fits, origins, datamodule.horizon, datamodule.season
        )

    return forecast_from


def window_calibration(
    model: pl.LightningModule,
    datamodule,
    values: np.ndarray,
    origins: np.ndarray,
    ends: np.ndarray,
    fit_end: int,
    baseline_points: dict[str, np.ndarray],
    settings: IntervalSettings,
) -> tuple[dict[str, list[np.ndarray]], dict[str, np.ndarray]]:
    """(calibration scores per model and forecast (`scores_before`), outputs per model) of the
    forecasts from `origins` (the LSTM's, and the baselines' `baseline_points` (n, H)), each
    calibrated on origins whose targets end by its `ends[w]`, the models fitted up to
    `fit_end`; only `values[: max(ends) + 1]` reaches the calibration."""
    check_quantile_setup(model, settings)
    history = np.asarray(values[: int(np.max(ends)) + 1], dtype=np.float64)
    forecast_from = calibration_forecasts(
        model, datamodule, history, fit_end, list(baseline_points)
    )
    first = datamodule.lookback - 1
    calibration = scores_before(
        forecast_from, history, ends, datamodule.horizon, first, settings, {MODEL: model}
    )
    outputs = {MODEL: model_outputs(model, datamodule.inputs(origins)), **baseline_points}
    return calibration, outputs


def window_intervals(
    model: pl.LightningModule,
    datamodule,
    values: np.ndarray,
    origins: np.ndarray,
    ends: np.ndarray,
    fit_end: int,
    baseline_points: dict[str, np.ndarray],
    settings: IntervalSettings,
) -> dict[str, Bands]:
    """Split-conformal bands of the forecasts `window_calibration` describes, per model."""
    calibration, outputs = window_calibration(
        model, datamodule, values, origins, ends, fit_end, baseline_points, settings
    )
    margins = {name: stack_margins(got, settings.levels) for name, got in calibration.items()}
    return {
        name: bands_of(name, out, margins[name], settings, model if name == MODEL else None)[1]
        for name, out in outputs.items()
    }


def join_bands(parts: list[tuple[list[int], dict[str, Bands]]], n: int) -> dict[str, Bands]:
    """Bands of groups of windows (their indices, their bands) as (n, H) arrays per model."""
    out: dict[str, Bands] = {}
    for members, bands in parts:
        for name, by_level in bands.items():
            for level, (lower, upper) in by_level.items():
                lo, hi = out.setdefault(name, {}).setdefault(
                    level, (np.zeros((n, lower.shape[1])), np.zeros((n, lower.shape[1])))
                )
                lo[members], hi[members] = lower, upper
    return out


def bands_frame(forecasts: Forecasts, bands: dict[str, Bands]) -> dict[str, np.ndarray]:
    """`lower_<L>` and `upper_<L>` columns in the row order of `Forecasts.to_frame()`."""
    columns: dict[str, list[np.ndarray]] = {}
    for name in forecasts.predicted:
        for level, (lower, upper) in bands[name].items():
            columns.setdefault(f"lower_{level_name(level)}", []).append(lower.reshape(-1))
            columns.setdefault(f"upper_{level_name(level)}", []).append(upper.reshape(-1))
    return {key: np.concatenate(parts) for key, parts in columns.items()}


def lstm_bands(
    model: pl.LightningModule,
    datamodule,
    origins: np.ndarray,
    end: int,
    settings: IntervalSettings,
) -> tuple[np.ndarray, Bands]:
    """The LSTM's point forecasts (n, H) from `origins` and their bands, calibrated on the
    rolling origins whose targets end by point `end` (predict.py: the last point of the data)."""
    check_quantile_setup(model, settings)
    values = datamodule.series.values

    def forecast_from(calibration: np.ndarray) -> dict[str, np.ndarray]:
        return {MODEL: model_outputs(model, datamodule.inputs(calibration))}

    ends = np.full(len(origins), end)
    first = datamodule.lookback - 1
    margins = margins_before(
        forecast_from, values, ends, datamodule.horizon, first, settings, {MODEL: model}
    )
    outputs = model_outputs(model, datamodule.inputs(origins))
    return bands_of(MODEL, outputs, margins[MODEL], settings, model)
