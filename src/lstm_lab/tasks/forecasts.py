"""Forecasts: H-step forecasts from several origins beside what happened, and their scores."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch

METRICS = ("mape", "smape", "mase", "mae", "rmse")


def scores(actual: np.ndarray, predicted: np.ndarray, mase_scale: float) -> dict[str, float]:
    """MAPE and sMAPE in percent, MASE (MAE over the training part's seasonal-naive MAE),
    MAE and RMSE in the series' units, over matching 1-d arrays."""
    error = predicted - actual
    return {
        "mape": float(np.mean(np.abs(error) / np.abs(actual)) * 100),
        "smape": float(np.mean(2 * np.abs(error) / (np.abs(actual) + np.abs(predicted))) * 100),
        "mase": float(np.mean(np.abs(error)) / mase_scale),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
    }


def seasonal_naive_mae(values: np.ndarray, season: int) -> float:
    """The in-sample MAE of the seasonal naive forecast: MASE's denominator."""
    lag = season if len(values) > season else 1
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


@dataclass
class Forecasts:
    """Forecasts of `horizon` steps from each origin, by model, beside the actual values.

    Residuals per horizon step (`actual - predicted[name]`, column h) are what an interval
    method calibrates on; `scored` marks the points a protocol scores (all of them, or the
    last step of each forecast).
    """

    origin_time: pd.DatetimeIndex  # (n,) the last observed point of each forecast
    time: np.ndarray  # (n, H) datetime64: the forecast points
    actual: np.ndarray  # (n, H) float64, NaN past the end of the data
    predicted: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n, H)
    keep: str = "all"  # "all" | "last": which steps the protocol scores

    @property
    def horizon(self) -> int:
        return self.actual.shape[1]

    @property
    def scored(self) -> np.ndarray:
        """(n, H) bool: the points the protocol scores."""
        mask = np.isfinite(self.actual)
        if self.keep == "last":
            mask[:, :-1] = False
        return mask

    def metrics(self, prefix: str, mase_scale: float, model: str = "lstm") -> dict[str, float]:
        """`{prefix}/mape`... for `model`, `{prefix}/<name>/mape`... for every other forecast."""
        mask = self.scored
        out = {}
        for name, predicted in self.predicted.items():
            key = prefix if name == model else f"{prefix}/{name}"
            values = scores(self.actual[mask], predicted[mask], mase_scale)
            out |= {f"{key}/{metric}": value for metric, value in values.items()}
        return out

    def by_horizon(self, mase_scale: float) -> pd.DataFrame:
        """Errors per model and horizon step (1..H) over every origin with an actual value."""
        rows = []
        for name, predicted in self.predicted.items():
            for h in range(self.horizon):
                ok = np.isfinite(self.actual[:, h])
                if ok.any():
                    values = scores(self.actual[ok, h], predicted[ok, h], mase_scale)
                    rows.append({"model": name, "step": h + 1, "n": int(ok.sum()), **values})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per origin, step and model: time, actual, forecast and whether it is scored."""
        n, horizon = self.actual.shape
        base = pd.DataFrame(
            {
                "origin": np.repeat(self.origin_time.to_numpy(), horizon),
                "step": np.tile(np.arange(1, horizon + 1), n),
                "time": self.time.reshape(-1),
                "actual": self.actual.reshape(-1),
                "scored": self.scored.reshape(-1),
            }
        )
        frames = [
            base.assign(model=name, forecast=p.reshape(-1)) for name, p in self.predicted.items()
        ]
        return pd.concat(frames, ignore_index=True)


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
