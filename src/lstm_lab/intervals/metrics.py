"""The interval metrics a forecasting run reports: coverage, width and Winkler per level, CRPS."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from lstm_lab.intervals import scores
from lstm_lab.intervals.conformal import Bands
from lstm_lab.intervals.levels import level_name, quantile_levels


def quantiles_from_bands(median: ArrayLike, bands: Bands) -> tuple[np.ndarray, tuple[float, ...]]:
    """Stack (..., Q) of the bands' ends and the median, with their quantile levels.

    A `level`% band is read as the (1 - level/100)/2 and 1 - (1 - level/100)/2 quantiles,
    NeuralForecast's and StatsForecast's convention for `lo-<level>` and `hi-<level>` columns.
    """
    qs = quantile_levels(bands)
    by_q = {0.5: np.asarray(median, np.float64)}
    for level, (lower, upper) in bands.items():
        tail = round((100.0 - level) / 200.0, 10)
        by_q[tail] = np.asarray(lower, np.float64)
        by_q[round(1.0 - tail, 10)] = np.asarray(upper, np.float64)
    return np.stack([by_q[q] for q in qs], axis=-1), qs


def interval_metrics(actual: ArrayLike, median: ArrayLike, bands: Bands, prefix: str) -> dict:
    """`<prefix>coverage_<L>`, `width_<L>`, `winkler_<L>` for every level, and `<prefix>crps`."""
    y = np.asarray(actual, np.float64)
    out = {}
    for level, (lower, upper) in sorted(bands.items()):
        name = level_name(level)
        out[f"{prefix}coverage_{name}"] = scores.coverage(y, lower, upper)
        out[f"{prefix}width_{name}"] = scores.width(lower, upper)
        out[f"{prefix}winkler_{name}"] = scores.winkler(y, lower, upper, level)
    stacked, qs = quantiles_from_bands(median, bands)
    out[f"{prefix}crps"] = scores.crps(y, stacked, qs)
    return out
