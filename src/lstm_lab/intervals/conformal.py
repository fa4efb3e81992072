"""Split-conformal intervals calibrated per horizon step on rolling-origin forecast errors.

The forecaster is trained once; from each of n origins inside the training and validation
parts it forecasts the next H values, and the n x H absolute errors become, per horizon step h,
the margin of symmetric intervals point[h] +- margin[h]. The margin is the
ceil((n + 1) * level / 100)-th smallest error of step h: the finite-sample split-conformal
quantile (Lei et al. 2018, "Distribution-free predictive inference for regression"; Angelopoulos
and Bates 2021, "A gentle introduction to conformal prediction", section 1). StatsForecast's
`ConformalIntervals(method="conformal_error")` and NeuralForecast's `PredictionIntervals` take
the plain `level` quantile of the same per-step errors instead, and Darts'
`ConformalNaiveModel(symmetric=True)` the `level` quantile with numpy's method="higher";
docs/intervals.md compares them.

`calibrate_quantiles` is the conformalised quantile regression of Romano, Patterson and Candes
(2019): the same quantile of max(lower - y, y - upper) widens (or narrows) a quantile model's band.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lstm_lab.errors import ConfigError

Bands = dict[float, tuple[np.ndarray, np.ndarray]]


def min_windows(level: float) -> int:
    """The fewest calibration errors that bound a `level`% interval: 80 -> 4, 90 -> 9, 95 -> 19."""
    # (n + 1) * level / 100 <= n  <=>  n >= level / (100 - level)
    return math.ceil(level / (100.0 - level) - 1e-9)


def conformal_quantile(scores: ArrayLike, level: float) -> np.ndarray:
    """Per column, the ceil((n + 1) * level / 100)-th smallest of the n rows of `scores`.

    scores: (n, H) nonconformity scores, one row per calibration window -> (H,) margins.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    rank = math.ceil((n + 1) * level / 100.0 - 1e-9)
    if rank > n:
        raise ConfigError(
            f"a {level:g}% conformal interval needs at least {min_windows(level)} calibration "
            f"windows and the run has {n}: raise intervals.windows, lower intervals.step, "
            "or drop that level from intervals.levels."
        )
    return np.sort(scores, axis=0)[rank - 1]


@dataclass(frozen=True)
class Calibration:
    """Per-horizon-step interval margins, one row per level, and what they were calibrated on."""

    levels: tuple[float, ...]
    margins: np.ndarray  # (len(levels), H)
    windows: int

    def bands(self, point: ArrayLike) -> Bands:
        """Symmetric intervals around point forecasts (..., H): level -> (lower, upper)."""
        point = np.asarray(point, dtype=np.float64)
        return {lv: (point - m, point + m) for lv, m in zip(self.levels, self.margins, strict=True)}

    def widen(self, quantile_bands: Bands) -> Bands:
        """A quantile model's bands (..., H) moved out (or in) by each level's margin."""
        out = {}
        for level, margin in zip(self.levels, self.margins, strict=True):
            lower, upper = quantile_bands[level]
            out[level] = (np.asarray(lower) - margin, np.asarray(upper) + margin)
        return out


def calibrate(predictions: ArrayLike, actual: ArrayLike, levels: tuple[float, ...]) -> Calibration:
    """Margins from point forecasts and actual values, both (n windows, H)."""
    errors = np.abs(np.asarray(actual, np.float64) - np.asarray(predictions, np.float64))
    return _calibration(errors, levels)


def calibrate_quantiles(
    quantile_bands: Bands, actual: ArrayLike, levels: tuple[float, ...]
) -> Calibration:
    """CQR margins from a quantile model's bands and actual values, all (n windows, H)."""
    y = np.asarray(actual, np.float64)
    rows = []
    for level in levels:
        lower, upper = (np.asarray(b, np.float64) for b in quantile_bands[level])
        rows.append(conformal_quantile(np.maximum(lower - y, y - upper), level))
    return Calibration(tuple(levels), np.stack(rows), len(y))


def _calibration(errors: np.ndarray, levels: tuple[float, ...]) -> Calibration:
    margins = np.stack([conformal_quantile(errors, level) for level in levels])
    return Calibration(tuple(levels), margins, len(errors))


def rolling_origins(
    end: int, horizon: int, first: int, step: int, windows: int | None
) -> list[int]:
    """Forecast origins o, oldest first: o is the last point a forecast sees, and it covers
    positions o + 1 .. o + horizon.

    The newest window's last target is position `end - 1` (`end`: the first position
    calibration may not see); each earlier origin is `step` before the next, none before
    `first` (the first origin with a full lookback), at most `windows` of them (None: all).
    """
    last = end - 1 - horizon
    origins = list(range(last, first - 1, -step))
    if windows is not None:
        origins = origins[:windows]
    return origins[::-1]


# (history (T,), origins) -> forecasts (n origins, H): the forecast from origin o may use
# history[: o + 1] only.
OriginForecaster = Callable[[np.ndarray, list[int]], np.ndarray]


def calibrate_forecaster(
    forecast: OriginForecaster,
    history: np.ndarray,
    horizon: int,
    levels: tuple[float, ...],
    first: int,
    step: int,
    windows: int | None,
) -> Calibration:
    """Split-conformal margins of `forecast` from rolling origins inside `history`.

    `history` is the training and validation parts only: calibration cannot read a value
    it is not handed, so the test part never reaches it.
    """
    origins = rolling_origins(len(history), horizon, first, step, windows)
    if not origins:
        raise ConfigError(
            f"no calibration window fits: the {len(history)} points before the test part hold "
            f"no {horizon}-step window after the first {first}; lower intervals.step or "
            "data.lookback."
        )
    predictions = np.asarray(forecast(history, origins), np.float64)  # (n, H)
    actual = np.stack([history[o + 1 : o + 1 + horizon] for o in origins])  # (n, H)
    return calibrate(predictions, actual, levels)
