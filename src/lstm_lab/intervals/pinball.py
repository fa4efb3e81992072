"""The multi-quantile (pinball) training loss, as NeuralForecast's MQLoss defines it."""

from __future__ import annotations

import torch
from torch import Tensor


def multi_quantile_loss(prediction: Tensor, target: Tensor, quantiles: Tensor) -> Tensor:
    """Mean pinball loss over batch, horizon steps and quantile levels.

    prediction: (..., Q) one forecast per quantile level; target: (...) actual values;
    quantiles: (Q,) levels in (0, 1). For q = 0.5 alone it is half the mean absolute error.
    """
    delta = target.unsqueeze(-1) - prediction  # (..., Q)
    q = quantiles.to(prediction)
    return torch.maximum(q * delta, (q - 1.0) * delta).mean()
