"""LSTMForecaster: an LSTMRegressor trained for multi-step forecasts rather than one step."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstm_lab.baselines import LinearAR
from lstm_lab.data.sine_product import SineProductDataModule, make_windows
from lstm_lab.errors import ConfigError
from lstm_lab.forecast import rollout
from lstm_lab.models.regressor import LSTMRegressor
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

    def __init__(
        self,
        hidden_size: int = 32,
        num_layers: int = 3,
        dropout: float = 0.0,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        init: str = "torch",
        input_size: int = 1,
        highway: str = "none",
        highway_window: int = 5,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        go_backwards: bool = False,
    ) -> None:
        super().__init__(
            hidden_size,
            num_layers,
            dropout,
            bidirectional,
            merge_mode,
            init,
            input_size,
            optimizer,
            scheduler,
            go_backwards,
        )
        check_choice("model.highway", highway, HIGHWAYS)
        check_int("model.highway_window", highway_window)
        self.highway_mode = highway
        self.highway_window = highway_window
        self.highway = nn.Linear(highway_window, 1) if highway != "none" else None
        if highway == "fitted":
            # Gradient descent cannot hold a recurrence this exactly (see the README), so
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
            self.fit_highway(datamodule)

    def fit_highway(self, datamodule: SineProductDataModule) -> None:
        """Set the highway to the least-squares linear AR fit of the training windows."""
        x, y = make_windows(datamodule.series, datamodule.lookback)
        x, y = x[: datamodule.n_train, -self.highway_window :], y[: datamodule.n_train]
        loc, scale = datamodule.scaling
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
        z = (x - self.loc) / self.scale
        out = self.head(self.encoder(z, return_sequences=False)).squeeze(-1)
        if self.highway is not None:
            out = out + self.highway(z[:, -self.highway_window :, 0]).squeeze(-1)
        return out * self.scale + self.loc

    def _shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        x, y = batch
        if y.dim() == 1:
            return super()._shared_step(batch)
        error = rollout(self, x, y.shape[1]) - y
        mse = error.square().mean()
        return mse / self.scale.square(), {"mse": mse, "mae": error.abs().mean()}
