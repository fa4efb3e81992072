"""Multi-step forecasts: autoregressive rollouts, and the test part scored for every forecaster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from lstm_lab.baselines import fit_baselines
from lstm_lab.models.rollout import rollout

if TYPE_CHECKING:
    from lstm_lab.data.function import FunctionDataModule

LABELS = {"lstm": "LSTM", "linear_ar": "linear AR", "persistence": "persistence"}


@dataclass
class TestForecasts:
    """One-step and rollout predictions over the test part, per forecaster, in original units.

    The rollout starts from the first test window only, so it covers the whole test horizon
    (79 steps on the seed's split) without seeing a single true test value.
    """

    xs: Tensor
    actual: Tensor
    one_step: dict[str, Tensor]
    rollout: dict[str, Tensor]

    def metrics(self) -> dict[str, float]:
        """MSEs under `test/` for the LSTM and `test/<baseline>/` for each baseline."""
        out = {}
        for name in self.one_step:
            prefix = "test/" if name == "lstm" else f"test/{name}/"
            out[prefix + "mse"] = mse(self.one_step[name], self.actual)
            out[prefix + "rollout_mse"] = mse(self.rollout[name], self.actual)
        return out


def mse(prediction: Tensor, actual: Tensor) -> float:
    return float((prediction.double() - actual.double()).square().mean())


def forecast_test_part(model: torch.nn.Module, datamodule: FunctionDataModule) -> TestForecasts:
    """The LSTM (one-step regressor `model`) and both baselines, one-step and rolled out."""
    x, y = datamodule.test
    device = next(model.parameters()).device
    steps = len(y)
    model.eval()
    with torch.no_grad():
        one_step = {"lstm": model(x.to(device)).cpu()}
        rolled = {"lstm": rollout(model, x[:1].to(device), steps)[0].cpu()}
    # Baselines run in float64 on the same windows: their errors are their own, not rounding.
    x64, y64 = datamodule.test_windows()
    for baseline in fit_baselines(*datamodule.training_windows()):
        one_step[baseline.name] = baseline(x64)
        rolled[baseline.name] = rollout(baseline, x64[:1], steps)[0]
    return TestForecasts(datamodule.test_xs.double(), y64, one_step, rolled)
