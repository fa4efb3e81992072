"""Statistical baselines fitted by statsforecast: seasonal naive, AutoETS, AutoARIMA, AutoTheta."""

from __future__ import annotations

import numpy as np

from lstm_lab.validation import check_choice

NAMES = ("seasonal_naive", "auto_ets", "auto_arima", "auto_theta")


def check_names(names: list[str]) -> list[str]:
    """The configured baselines (task.baselines), each one this module knows."""
    for name in names:
        check_choice("task.baselines", name, NAMES)
    return list(names)


def make(name: str, season: int):
    """A fresh statsforecast model by baseline name."""
    # Imported on first use: statsforecast (and statsmodels under it) cost about a second.
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    classes = {
        "seasonal_naive": SeasonalNaive,
        "auto_ets": AutoETS,
        "auto_arima": AutoARIMA,
        "auto_theta": AutoTheta,
    }
    return classes[name](season_length=season)


# Fitted models by (name, season, the exact values fitted on): interval calibration asks for
# forecasts from more origins of a model the test forecasts already fitted.
_FITTED: dict[tuple[str, int, bytes], object] = {}


def fitted(name: str, season: int, values: np.ndarray):
    """`make(name, season)` fitted on `values`, once per process for the same values."""
    key = (name, season, np.ascontiguousarray(values, dtype=np.float64).tobytes())
    if key not in _FITTED:
        if len(_FITTED) >= 64:
            _FITTED.clear()
        _FITTED[key] = make(name, season).fit(values)
    return _FITTED[key]


def forecast(
    names: list[str],
    values: np.ndarray,
    fits: list[int],
    origins: np.ndarray,
    horizon: int,
    season: int,
) -> dict[str, np.ndarray]:
    """(n, H) forecasts of each named baseline from each origin.

    `fits[i]` is the last point the model forecasting from `origins[i]` was fitted on (a new
    fit wherever it changes); a model applied to later origins reads the new points without
    refitting (statsforecast's `forward`), as the LSTM does.
    """
    out = {}
    for name in names:
        rows, model, fitted_to = [], None, None
        for fit_end, origin in zip(fits, origins, strict=True):
            if fit_end != fitted_to:
                model = fitted(name, season, values[: fit_end + 1])
                fitted_to = fit_end
            if origin == fit_end:
                rows.append(model.predict(h=horizon)["mean"])
            else:
                rows.append(model.forward(y=values[: origin + 1], h=horizon)["mean"])
        out[name] = np.asarray(rows, dtype=np.float64)
    return out
