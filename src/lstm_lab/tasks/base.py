"""Task: what train.py and eval.py ask of an experiment's task, given its model and data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor


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


def rescore_test_part(model: pl.LightningModule, test: tuple[Tensor, ...]) -> dict[str, float]:
    """The test metrics train.py logged, recomputed with the model's own step."""
    with torch.no_grad():
        loss, values = model.shared_step(test)
    return {"test/loss": float(loss), **{f"test/{k}": float(v) for k, v in values.items()}}
