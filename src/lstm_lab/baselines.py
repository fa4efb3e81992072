"""Honest baselines for the forecasting task: persistence and a least-squares linear AR model.

Both map windows shaped (B, lookback, 1) to next values (B,), like LSTMRegressor, so the
same one-step and rollout code scores all three.
"""

from __future__ import annotations

import torch
from torch import Tensor


class Persistence:
    """Predict that the next value repeats the window's last one."""

    name = "persistence"

    def __call__(self, windows: Tensor) -> Tensor:
        return windows[:, -1, 0]


class LinearAR:
    """Linear autoregression, next = weight · window + bias, fitted by least squares."""

    name = "linear_ar"

    def __init__(self, weight: Tensor, bias: Tensor) -> None:
        self.weight = weight
        self.bias = bias

    @classmethod
    def fit(cls, windows: Tensor, targets: Tensor) -> LinearAR:
        """The least-squares fit of `targets` (N,) on `windows` (N, lookback, 1), in float64."""
        x = windows[..., 0].double()
        design = torch.cat((x, torch.ones(len(x), 1, dtype=x.dtype)), dim=1)
        # gelsd gives the minimum-norm solution: x*sin(x) windows of 5 values span only a
        # 4-dimensional space, so the plain normal equations would be singular.
        solution = torch.linalg.lstsq(design, targets.double().unsqueeze(1), driver="gelsd")
        coefficients = solution.solution.squeeze(1)
        return cls(coefficients[:-1], coefficients[-1])

    def __call__(self, windows: Tensor) -> Tensor:
        return windows[..., 0].to(self.weight.dtype) @ self.weight + self.bias


def fit_baselines(windows: Tensor, targets: Tensor) -> list[Persistence | LinearAR]:
    """Both baselines, the linear one fitted on the training windows the LSTM trains on."""
    return [Persistence(), LinearAR.fit(windows, targets)]
