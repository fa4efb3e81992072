"""RunStatus: a run that ends early still says how in its metrics.json."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from lstm_lab.errors import TrainingDiverged
from lstm_lab.io import write_json


class RunStatus(pl.Callback):
    """Writes metrics.json with `status: diverged` (and the error) when training stops on a
    non-finite loss, naming the last good checkpoint in the error a user sees."""

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)
        self.fit_start = time.perf_counter()

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.fit_start = time.perf_counter()

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, TrainingDiverged):
            return
        checkpoint = trainer.checkpoint_callback
        last = Path(checkpoint.dirpath) / "last.ckpt" if checkpoint else None
        kept = (
            f"the last good checkpoint is {last}"
            if last and last.is_file()
            else "no checkpoint was saved before it"
        )
        lr = pl_module.hparams.get("optimizer", {}).get("lr")
        message = f"{exception}: lower model.optimizer.lr (now {lr}) or add a schedule; {kept}."
        # Lightning re-raises this same exception after the hooks: the user reads the fix.
        exception.args = (message,)
        if trainer.is_global_zero:
            record: dict[str, Any] = {
                "status": "diverged",
                "error": message,
                "time/fit_seconds": round(time.perf_counter() - self.fit_start, 3),
            }
            write_json(self.output_dir / "metrics.json", record)
