"""Task: what train.py and eval.py ask of an experiment's task, given its model and data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

# Top-level config blocks handed to the task as keyword arguments, where a run has them
# (a series run's `intervals`); the task's own config node holds no interpolation.
TASK_SETTINGS = ("intervals",)


def task_settings(cfg: Any) -> dict[str, Any]:
    """The TASK_SETTINGS blocks `cfg` (a composed config or a saved one) has."""
    return {key: cfg[key] for key in TASK_SETTINGS if cfg.get(key) is not None}


class Task:
    """The reports of one kind of experiment; the datamodule only makes its tensors.

    `datamodule.test` is the test part as tensors (inputs, targets); export.py traces with
    its inputs.
    """

    def extra_test_metrics(self, model: pl.LightningModule, datamodule: Any) -> dict[str, float]:
        """Metrics beside the model's own test step's (e.g. rollouts, baselines)."""
        return {}

    def plot_predictions(
        self, model: pl.LightningModule, datamodule: Any, path: Path, title: str
    ) -> Path:
        """The run's PNG: the model's predictions on the test part."""
        raise NotImplementedError

    def evaluate(
        self,
        model: pl.LightningModule,
        datamodule: Any,
        out: Path,
        name: str,
        plot: bool,
        n_sequences: int,
    ) -> dict[str, float]:
        """eval.py's report on a finished run: prints it, writes files under `out`."""
        raise NotImplementedError

    def backtest(self, cfg: Any, out: Path) -> dict[str, float]:
        """After the test: metrics of a rolling-origin backtest, files under `out` (none here)."""
        return {}


def rescore_test_part(model: pl.LightningModule, test: tuple[Tensor, ...]) -> dict[str, float]:
    """The test metrics train.py logged, recomputed with the model's own step."""
    with torch.no_grad():
        loss, values = model.shared_step(test)
    return {"test/loss": float(loss), **{f"test/{k}": float(v) for k, v in values.items()}}
