"""Interval and quantile scores, defined as Nixtla's utilsforecast and Darts define them.

Every function takes arrays of one shape (any shape: points, windows x horizon steps) and
returns the mean over all their elements; docs/intervals.md writes out each formula and its source.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def alpha(level: float) -> float:
    """The miss rate of a `level`% interval: 80 -> 0.2."""
    return (100.0 - level) / 100.0


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Fraction of actual values in [lower, upper], ends included (utilsforecast `coverage`)."""
    y, lo, hi = _arrays(actual, lower, upper)
    return float(np.mean((y >= lo) & (y <= hi)))


def width(lower: ArrayLike, upper: ArrayLike) -> float:
    """Mean width upper - lower (Darts `miw`, mean interval width)."""
    lo, hi = _arrays(lower, upper)
    return float(np.mean(hi - lo))


def winkler(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike, level: float) -> float:
    """Mean Winkler (interval) score of `level`% intervals (utilsforecast `winkler_score`).

    Width, plus 2/alpha times the distance by which the actual value misses the interval.
    """
    y, lo, hi = _arrays(actual, lower, upper)
    a = alpha(level)
    penalty = (2.0 / a) * (np.clip(lo - y, 0.0, None) + np.clip(y - hi, 0.0, None))
    return float(np.mean(hi - lo + penalty))


def pinball(actual: ArrayLike, prediction: ArrayLike, q: float) -> float:
    """Mean quantile (pinball) loss of the q-quantile (utilsforecast `quantile_loss`)."""
    y, p = _arrays(actual, prediction)
    delta = y - p
    return float(np.mean(np.maximum(q * delta, (q - 1.0) * delta)))


def crps(actual: ArrayLike, quantiles: ArrayLike, levels: ArrayLike) -> float:
    """CRPS from quantile forecasts: twice the pinball loss, averaged over quantile levels.

    `quantiles` has one more axis than `actual`, last, one entry per level in `levels`.
    Twice utilsforecast's `mqloss`, the same as Darts' `mql` (whose `ql` carries the 2): a
    discretised CRPS = 2 * integral of the pinball loss over q, which equals the absolute
    error when every quantile is the same point forecast.
    """
    y = np.asarray(actual, dtype=np.float64)
    qs = np.asarray(quantiles, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    if qs.shape != (*y.shape, len(levels)):
        raise ValueError(f"quantiles {qs.shape} must be actual {y.shape} + ({len(levels)},)")
    return float(np.mean([2.0 * pinball(y, qs[..., i], q) for i, q in enumerate(levels)]))


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError(f"shapes differ: {[a.shape for a in arrays]}")
    return arrays
