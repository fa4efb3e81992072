"""Progress that reads well in a terminal (the tqdm bar) and in a file (plain lines)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar, TQDMProgressBar

from lstm_lab.logs import stdout_is_terminal

log = logging.getLogger("lstm_lab.progress")


def progress_bar(refresh_rate: int, lines: int = 10) -> ProgressBar:
    """The tqdm bar when stdout is a terminal; otherwise `lines` plain lines over a run
    (nohup, SLURM and CI logs get no carriage-return frames). refresh_rate=0: neither."""
    if stdout_is_terminal():
        return TerminalProgress(refresh_rate=refresh_rate)
    return ProgressLines(lines if refresh_rate else 0)


def log_validation(trainer: pl.Trainer) -> None:
    """The validation results, for train.log only: the progress shows them in the terminal."""
    if trainer.sanity_checking:
        return
    values = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    log.info(
        "validation at step %d: %s",
        trainer.global_step,
        format_metrics(values),
        extra={"file_only": True},
    )


def format_metrics(metrics: dict[str, Any]) -> str:
    return "  ".join(f"{k} {float(v):.4g}" for k, v in metrics.items() if k != "v_num")


class TerminalProgress(TQDMProgressBar):
    """Lightning's tqdm bar, with each validation's results also written to train.log."""

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        log_validation(trainer)


class ProgressLines(ProgressBar):
    """One log line every 1/`lines` of trainer.max_steps: step, loss, the latest validation
    metrics and elapsed time (plus each validation's results in train.log)."""

    def __init__(self, lines: int = 10) -> None:
        super().__init__()
        self.lines = lines
        self._enabled = lines > 0
        self._every = self._next = 1
        self._start = time.perf_counter()

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = self.lines > 0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()
        self._every = max(1, -(-trainer.max_steps // max(self.lines, 1)))
        # A resumed run continues the schedule from the step it restored.
        self._next = (trainer.global_step // self._every + 1) * self._every

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        step = trainer.global_step
        if not self._enabled or step < self._next:
            return
        self._next = (step // self._every + 1) * self._every
        elapsed = time.perf_counter() - self._start
        percent = 100 * step / trainer.max_steps
        log.info(
            "step %d/%d (%3.0f%%)  %s  %.1fs",
            step,
            trainer.max_steps,
            percent,
            format_metrics(self.get_metrics(trainer, pl_module)),
            elapsed,
        )

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.lines:
            log_validation(trainer)
