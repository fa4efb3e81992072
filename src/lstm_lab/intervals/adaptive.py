"""Adaptive conformal inference (ACI) over a sequence of multi-step forecasts.

Gibbs and Candes (2021), "Adaptive conformal inference under distribution shift" (NeurIPS),
eq. (2): after each target, alpha <- alpha + gamma * (target_alpha - miss), so a run of misses
lowers alpha (wider intervals) and a run of hits raises it. Here a forecast covers H targets
and they become known only when its last one is observed: forecast w's alpha takes in the
misses of every earlier forecast j whose targets end by w's origin
(origins[j] + horizon <= origins[w]), each of its H targets one update, and nothing of w's
own or later targets. A forecast's margin per step is the ceil((n + 1) * (1 - alpha))-th
smallest of its n calibration scores (as `conformal_quantile`), the rank clipped to 1..n: an
alpha under 1 / (n + 1) gets the largest score, not the paper's infinite interval, so scores
stay finite; alpha itself is not clipped.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def quantile_at(scores: ArrayLike, alpha: float) -> np.ndarray:
    """Per column, the ceil((n + 1) * (1 - alpha))-th smallest of the n rows, rank in 1..n."""
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    rank = min(max(math.ceil((n + 1) * (1.0 - alpha) - 1e-9), 1), n)
    return np.sort(scores, axis=0)[rank - 1]


def aci_margins(
    calibration: list[np.ndarray],
    scores: ArrayLike,
    origins: ArrayLike,
    horizon: int,
    level: float,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(margins (W, H), alphas (W,)) of W forecasts in time order at a `level`% target.

    calibration[w]: (n_w, H) calibration scores of forecast w; scores: (W, H) each forecast's
    own nonconformity scores (|actual - point| for symmetric intervals), read only for the
    forecasts whose targets end by a later forecast's origin; origins: (W,) ascending.
    """
    scores = np.asarray(scores, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    if np.any(np.diff(origins) <= 0):
        raise ValueError("ACI walks forecasts in time order: origins must be increasing")
    target = 1.0 - level / 100.0
    alpha = target
    margins = np.empty_like(scores)
    alphas = np.empty(len(origins))
    fed = 0  # forecasts whose misses alpha has taken in
    for w in range(len(origins)):
        while fed < w and origins[fed] + horizon <= origins[w]:
            misses = scores[fed] > margins[fed]
            alpha += gamma * float(np.sum(target - misses))
            fed += 1
        alphas[w] = alpha
        margins[w] = quantile_at(calibration[w], alpha)
    return margins, alphas
