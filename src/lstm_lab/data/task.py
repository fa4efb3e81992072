"""TaskDataModule: what the entry points ask of every task's datamodule."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl


class TaskDataModule(pl.LightningDataModule):
    """A LightningDataModule that also owns its task's reports, so train.py, eval.py and
    export.py never switch on the task: a new task implements these hooks and nothing else.

    `test` is the test part as tensors (inputs, targets); export.py traces with its inputs.
    """

    test: tuple

    def extra_test_metrics(self, model: pl.LightningModule) -> dict[str, float]:
        """Metrics beside the model's own test step's (e.g. rollouts, baselines)."""
        return {}

    def plot_predictions(self, model: pl.LightningModule, path: Path, title: str) -> Path:
        """The run's PNG: the model's predictions on the test part."""
        raise NotImplementedError

    def evaluate(
        self, model: pl.LightningModule, out: Path, name: str, plot: bool, n_sequences: int
    ) -> dict[str, float]:
        """eval.py's report on a finished run: prints it, writes files under `out`."""
        raise NotImplementedError
