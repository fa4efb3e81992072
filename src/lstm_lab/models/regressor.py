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

    def __init__(
        self,
        hidden_size: int = 32,
        num_layers: int = 3,
        dropout: float = 0.0,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        init: str = "torch",
        input_size: int = 1,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        go_backwards: bool = False,
    ) -> None:
        encoder = {
            "input_size": input_size,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "dropout": dropout,
            "bidirectional": bidirectional,
            "merge_mode": merge_mode,
            "init": init,
            "go_backwards": go_backwards,
        }
        super().__init__(encoder, optimizer, scheduler)
        self.save_hyperparameters()
        self.register_buffer("loc", torch.tensor(0.0))
        self.register_buffer("scale", torch.tensor(1.0))

    # Whether training can use multi-step targets (data.horizon > 1); see LSTMForecaster.
    multi_step = False

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
        z = (x - self.loc) / self.scale
        return (
            self.head(self.encoder(z, return_sequences=False)).squeeze(-1) * self.scale + self.loc
        )

    def _shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        x, y = batch
        error = self(x) - y
        mse = error.square().mean()
        # The loss is the MSE in standardised units; the metrics stay in original units.
        return mse / self.scale.square(), {"mse": mse, "mae": error.abs().mean()}
