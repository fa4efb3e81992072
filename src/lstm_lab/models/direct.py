"""LSTMDirectForecaster: all H future values of a series at once, as corrections to a
seasonal reference forecast."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstm_lab.errors import ConfigError
from lstm_lab.intervals.levels import check_levels, quantile_levels
from lstm_lab.intervals.pinball import multi_quantile_loss
from lstm_lab.models.base import LSTMModule
from lstm_lab.validation import check_choice, check_int

TRANSFORMS = ("log", "none")
REFERENCES = ("seasonal_naive", "seasonal_drift", "last", "none")
LOSSES = ("mse", "quantile")


class LSTMDirectForecaster(LSTMModule):
    """A window of past values (target first, then covariates) -> the next `horizon` targets.

    - `transform: log` models log values, so errors are relative and a multiplicative season
      becomes additive; `none` keeps the data's units.
    - The head starts at zero and adds its H outputs to a `reference` forecast built from the
      window: `seasonal_naive` (the value one season earlier), `seasonal_drift` (that plus
      the last season's growth per season ahead), `last` (the last value) or `none`.
    - Scaling lives here: `loc`/`scale` buffers (per input feature) come from the
      datamodule's training values only, so a checkpoint is self-contained.
    - `loss: quantile` makes it a quantile model: the head forecasts, per step, the median and
      both ends of every interval in `levels` (percent), trained with the pinball loss
      (NeuralForecast's MQLoss); `forward` then returns (B, H, Q) quantiles, ascending.
    Inputs and outputs are in the data's units; the loss is the MSE (or pinball) in scaled units.
    """

    output_name = "forecast"
    # What it predicts; train.py refuses a model whose task is not the data's.
    task = "future values"

    def __init__(
        self,
        *,
        horizon: int,
        season: int,
        transform: str,
        reference: str,
        loss: str,
        levels: list[float],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.horizon = check_int("data.horizon", horizon)
        self.season = check_int("data.season", season)
        self.transform = check_choice("model.transform", transform, TRANSFORMS)
        self.reference = check_choice("model.reference", reference, REFERENCES)
        self.loss = check_choice("model.loss", loss, LOSSES)
        self.levels = check_levels(levels) if loss == "quantile" else ()
        self.quantiles = quantile_levels(self.levels) if self.levels else ()
        self.register_buffer("q", torch.tensor(self.quantiles), persistent=False)
        self.head = nn.Linear(self.encoder.out_features, horizon * max(len(self.quantiles), 1))
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        features = kwargs["input_size"]
        self.register_buffer("loc", torch.zeros(features))
        self.register_buffer("scale", torch.ones(features))
        # Step h (0-based) looks back whole seasons to the last observed point of its phase.
        back = [self.season * (h // self.season + 1) - h for h in range(horizon)]
        self.register_buffer("back", torch.tensor(back), persistent=False)
        self.register_buffer(
            "seasons_ahead",
            torch.tensor([h // self.season + 1.0 for h in range(horizon)]),
            persistent=False,
        )

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None:
            return
        lookback = datamodule.lookback
        window = 2 * self.season if self.reference == "seasonal_drift" else self.season
        if self.reference.startswith("seasonal") and lookback < window:
            raise ConfigError(
                f"model.reference={self.reference} needs data.lookback >= {window} "
                f"({'two seasons' if window > self.season else 'one season'} of "
                f"data.season={self.season}); raise data.lookback."
            )
        if stage == "fit":
            self.set_scaling(datamodule.training_values())

    def forward_transform(self, values: Tensor) -> Tensor:
        """The target channel (index 0 of the last dim, or all of a (B, H) tensor) transformed."""
        return values.log() if self.transform == "log" else values

    def set_scaling(self, values: Tensor) -> None:
        """loc/scale from training values (N, F): mean and std, the target's after transform."""
        if self.transform == "log" and not (values[:, 0] > 0).all():
            raise ConfigError(
                "model.transform=log needs a target above zero everywhere in training; "
                "use model.transform=none for this series."
            )
        values = values.clone()
        values[:, 0] = self.forward_transform(values[:, 0])
        std = values.std(dim=0)
        self.loc.copy_(values.mean(dim=0))
        self.scale.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def _reference(self, z: Tensor) -> Tensor:
        """(B, L) scaled target window -> (B, H) reference forecast."""
        last = z.shape[1]
        if self.reference == "none":
            return torch.zeros(len(z), self.horizon, device=z.device, dtype=z.dtype)
        if self.reference == "last":
            return z[:, -1:].expand(-1, self.horizon)
        ref = z[:, last - self.back]  # (B, H)
        if self.reference == "seasonal_drift":
            s = self.season
            growth = z[:, -s:].mean(1, keepdim=True) - z[:, -2 * s : -s].mean(1, keepdim=True)
            ref = ref + growth * self.seasons_ahead  # (B, H)
        return ref

    def scaled(self, x: Tensor) -> Tensor:
        """(B, L, F) windows in data units -> the same, transformed and scaled."""
        target = self.forward_transform(x[..., :1])
        return (torch.cat([target, x[..., 1:]], dim=-1) - self.loc) / self.scale  # (B, L, F)

    def forward_scaled(self, z: Tensor) -> Tensor:
        """(B, L, F) scaled windows -> (B, H) scaled forecasts."""
        inputs = z.clone()
        inputs[..., 0] = z[..., 0] - z[:, -1:, 0]  # the level removed: (B, L)
        features = self.encoder(inputs, return_sequences=False)  # (B, out_features)
        if self.quantiles:
            head = self.head(features).view(len(z), self.horizon, -1)  # (B, H, Q)
            return self._reference(z[..., 0]).unsqueeze(-1) + head  # (B, H, Q)
        return self._reference(z[..., 0]) + self.head(features)  # (B, H)

    def forward(self, x: Tensor) -> Tensor:
        """(B, lookback, F) windows -> (B, horizon) forecasts, both in the data's units."""
        out = self.forward_scaled(self.scaled(x)) * self.scale[0] + self.loc[0]  # (B, H[, Q])
        if self.quantiles:
            # Quantiles trained apart can cross; sorted they are a valid set (Chernozhukov,
            # Fernandez-Val and Galichon 2010), and exp keeps their order.
            out = out.sort(dim=-1).values  # (B, H, Q)
        return out.exp() if self.transform == "log" else out

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        """MSE in scaled units over all H steps; the task reports errors in data units."""
        x, y = batch  # (B, L, F), (B, H)
        target = (self.forward_transform(y) - self.loc[0]) / self.scale[0]  # (B, H)
        if self.quantiles:
            return multi_quantile_loss(self.forward_scaled(self.scaled(x)), target, self.q), {}
        return (self.forward_scaled(self.scaled(x)) - target).square().mean(), {}

    @property
    def band_index(self) -> dict[float, tuple[int, int]]:
        """level -> the (lower, upper) indices of its band in a quantile model's last axis."""
        q = len(self.quantiles)
        # quantiles: the lower ends (widest band first), the median, the upper ends.
        return {lv: (i, q - 1 - i) for i, lv in enumerate(reversed(self.levels))}

    def point_of(self, out: Any) -> Any:
        """The point forecasts (..., H) in outputs (..., H[, Q]): a quantile model's median."""
        return out[..., self.quantiles.index(0.5)] if self.quantiles else out
