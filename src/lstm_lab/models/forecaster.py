"""LSTMForecaster: an LSTMRegressor trained for multi-step forecasts rather than one step."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstm_lab.baselines import LinearAR
from lstm_lab.errors import ConfigError
from lstm_lab.models.regressor import LSTMRegressor
from lstm_lab.models.rollout import rollout
from lstm_lab.validation import check_choice, check_int

HIGHWAYS = ("none", "learned", "fitted")


class LSTMForecaster(LSTMRegressor):
    """LSTMRegressor with a rollout training loss and an optional linear highway.

    - Multi-step training: when the datamodule's targets are the next H values
      (`data.horizon=H`), the loss is the MSE of an H-step rollout that feeds the model its
      own predictions, so training sees the errors a rollout compounds.
    - `highway` adds a linear map of the last `highway_window` inputs to the output:
      `learned` is LSTNet's autoregressive component (Lai et al., 2018), trained with the
      LSTM from a random start; `fitted` is the least-squares fit of the training windows,
      frozen, with the LSTM starting as a zero correction on top of it (the hybrid
      linear + network recipe of Zhang, 2003).

    Evaluation and export see a plain one-step model: `forward` has the regressor's signature.
    """

    multi_step = True

    def __init__(self, *, highway: str, highway_window: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice("model.highway", highway, HIGHWAYS)
        check_int("model.highway_window", highway_window)
        self.highway_mode = highway
        self.highway_window = highway_window
        self.highway = nn.Linear(highway_window, 1) if highway != "none" else None
        if highway == "fitted":
            # Gradient descent cannot hold a recurrence this exactly (docs/evaluation.md), so
            # the fitted path stays as least squares left it.
            self.highway.requires_grad_(False)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        datamodule = getattr(self.trainer, "datamodule", None)
        lookback = getattr(datamodule, "lookback", None)
        if self.highway is not None and lookback is not None and self.highway_window > lookback:
            raise ConfigError(
                f"model.highway_window={self.highway_window} is longer than the "
                f"data.lookback={lookback} values a window holds; lower it."
            )
        if stage == "fit" and self.highway_mode == "fitted":
            # The datamodule hands over tensors; the model needs no data class.
            self.fit_highway(*datamodule.training_windows(), datamodule.scaling)

    def fit_highway(self, x: Tensor, y: Tensor, scaling: tuple[float, float]) -> None:
        """Set the highway to the least-squares linear AR fit of the training windows.

        x: (N, lookback, 1) training windows and y: (N,) their next values, original units.
        """
        loc, scale = scaling
        x = x[:, -self.highway_window :]  # (N, highway_window, 1)
        fit = LinearAR.fit((x - loc) / scale, (y - loc) / scale)
        with torch.no_grad():
            self.highway.weight.copy_(fit.weight.view(1, -1))
            self.highway.bias.copy_(fit.bias.view(1))
            # The LSTM starts as a zero correction: it changes the forecast only where
            # that lowers the training loss.
            self.head.weight.zero_()
            self.head.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """(B, lookback, input_size) windows -> (B,) next values, both in original units."""
        z = (x - self.loc) / self.scale  # (B, lookback, input_size)
        out = self.head(self.encoder(z, return_sequences=False)).squeeze(-1)  # (B,)
        if self.highway is not None:
            out = out + self.highway(z[:, -self.highway_window :, 0]).squeeze(-1)  # (B,)
        return out * self.scale + self.loc

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        x, y = batch
        if y.dim() == 1:
            return super().shared_step(batch)
        error = rollout(self, x, y.shape[1]) - y
        mse = error.square().mean()
        return mse / self.scale.square(), {"mse": mse, "mae": error.abs().mean()}
