"""Autoregressive rollout: a one-step predictor fed its own outputs."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def rollout(predict: Callable[[Tensor], Tensor], windows: Tensor, steps: int) -> Tensor:
    """Forecast `steps` values ahead by feeding a one-step predictor its own outputs.

    (B, lookback, 1) windows of true values -> (B, steps): step k sees the window's last
    lookback - k true values followed by its own k most recent predictions.
    """
    predictions = []
    for _ in range(steps):
        step = predict(windows)  # (B,)
        predictions.append(step)
        windows = torch.cat((windows[:, 1:], step.view(-1, 1, 1).to(windows.dtype)), dim=1)
    return torch.stack(predictions, dim=1)  # (B, steps)
