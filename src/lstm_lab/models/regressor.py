"""LSTMRegressor: predict the next value of a series from a window of past values."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstm_lab.errors import ConfigError
from lstm_lab.models.base import LSTMModule


class LSTMRegressor(LSTMModule):
    """Stacked (optionally bidirectional) LSTM with a linear head on the last step; MSE loss.

    Inputs and outputs are in the data's original units. The model standardises internally
    with `loc`/`scale` buffers taken from the datamodule's training part, so a checkpoint is
    self-contained and the loss is scale-free while metrics stay in original units.
    """

    output_name = "prediction"
    # What it predicts; train.py refuses a model whose task is not the data's.
    task = "next values"
    # Whether training can use multi-step targets (data.horizon > 1); see LSTMForecaster.
    multi_step = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.register_buffer("loc", torch.tensor(0.0))
        self.register_buffer("scale", torch.tensor(1.0))

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if getattr(datamodule, "horizon", 1) > 1 and not self.multi_step:
            raise ConfigError(
                f"data.horizon={datamodule.horizon} needs a model trained on multi-step targets; "
                "use model=forecaster or data.horizon=1."
            )
        if stage == "fit" and hasattr(datamodule, "scaling"):
            self.set_scaling(*datamodule.scaling)

    def set_scaling(self, loc: float, scale: float) -> None:
        self.loc.fill_(loc)
        self.scale.fill_(scale)

    def forward(self, x: Tensor) -> Tensor:
        """(B, lookback, input_size) windows -> (B,) next values, both in original units."""
        z = (x - self.loc) / self.scale  # (B, lookback, input_size)
        features = self.encoder(z, return_sequences=False)  # (B, out_features)
        return self.head(features).squeeze(-1) * self.scale + self.loc  # (B,)

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        """Loss and metrics of one batch; training, validation, test and eval.py share it."""
        x, y = batch  # (B, lookback, 1), (B,)
        error = self(x) - y
        mse = error.square().mean()
        # The loss is the MSE in standardised units; the metrics stay in original units.
        return mse / self.scale.square(), {"mse": mse, "mae": error.abs().mean()}
