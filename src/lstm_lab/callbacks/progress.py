"""Progress that reads well in a terminal (the tqdm bar) and in a file (plain lines)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar, TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import convert_inf

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


def log_resumed(trainer: pl.Trainer) -> None:
    """A resumed run says where it continues from (a fresh one starts at step 0)."""
    if trainer.global_step > 0:
        log.info(
            "Resumed at step %d of %d from %s",
            trainer.global_step,
            trainer.max_steps,
            trainer.ckpt_path,
        )


class TerminalProgress(TQDMProgressBar):
    """Lightning's tqdm bar, named for what it counts here (training steps in one long
    epoch, not `Epoch 0`; test batches, not `DataLoader 0`); each validation's results
    also go to train.log."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        log_resumed(trainer)

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        # Lightning's own hook would draw `Epoch 0` first; the bar keeps its `Training`.
        self.train_progress_bar.reset(total=convert_inf(self.total_train_batches))
        self.train_progress_bar.initial = 0

    def on_validation_batch_start(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        batch: Any,
        batch_idx: int,
        *args: Any,
    ) -> None:
        super().on_validation_batch_start(trainer, pl_module, batch, batch_idx, *args)
        if batch_idx == 0:
            self.val_progress_bar.set_description(
                "Sanity check"
                if trainer.sanity_checking
                else f"Validating at step {trainer.global_step}"
            )

    def on_test_batch_start(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        batch: Any,
        batch_idx: int,
        *args: Any,
    ) -> None:
        super().on_test_batch_start(trainer, pl_module, batch, batch_idx, *args)
        if batch_idx == 0:
            self.test_progress_bar.set_description("Testing the best checkpoint")

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        log_validation(trainer)


class ProgressLines(ProgressBar):
    """One log line every 1/`lines` of trainer.max_steps: step, loss, the latest validation
    metrics (that of the line's own step when one runs there), elapsed time and an estimate
    of the time left (plus each validation's results in train.log)."""

    def __init__(self, lines: int = 10) -> None:
        super().__init__()
        self.lines = lines
        self._enabled = lines > 0
        self._every = self._next = 1
        self._start = time.perf_counter()
        self._first_step = 0
        self._pending: int | None = None  # a line due, waiting for its step's validation

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = self.lines > 0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()
        self._first_step = trainer.global_step
        self._every = max(1, -(-trainer.max_steps // max(self.lines, 1)))
        # A resumed run continues the schedule from the step it restored.
        self._next = (trainer.global_step // self._every + 1) * self._every
        log_resumed(trainer)  # also with the lines off (refresh_rate=0)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        self._flush(trainer, pl_module)  # an earlier step's line whose step had no validation
        step = trainer.global_step
        if not self._enabled or step < self._next:
            return
        self._next = (step // self._every + 1) * self._every
        # Lightning validates after this hook: the line waits for it (on_validation_end) and
        # otherwise goes out at the next batch or at the end of training.
        self._pending = step

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.lines:
            log_validation(trainer)
        if not trainer.sanity_checking:
            self._flush(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer, pl_module)

    def _flush(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._pending is None:
            return
        step, self._pending = self._pending, None
        elapsed = time.perf_counter() - self._start
        done = step - self._first_step
        left = elapsed / done * (trainer.max_steps - step) if done > 0 else float("nan")
        eta = f"  ETA {left:.0f}s" if step < trainer.max_steps and left == left else ""
        log.info(
            "step %d/%d (%3.0f%%)  %s  %.1fs%s",
            step,
            trainer.max_steps,
            100 * step / trainer.max_steps,
            format_metrics(self.get_metrics(trainer, pl_module)),
            elapsed,
            eta,
        )
