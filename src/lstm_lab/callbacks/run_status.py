"""RunStatus: a run that ends early still says how in its metrics.json."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lstm_lab.callbacks.stuck_ranks import watch_for_sigterm
from lstm_lab.errors import ConfigError, TrainingDiverged
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

log = logging.getLogger(__name__)


def how_to_resume(output_dir: Path) -> str:
    """The command that continues this run (or, for a sweep job, its whole sweep)."""
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        sweep_dir = Path(HydraConfig.get().sweep.dir).absolute()
        return f"continue the sweep with: python train.py -m resume={sweep_dir}"
    return f"resume with: python train.py resume={output_dir}"


def cause(exception: BaseException) -> str:
    """What stopped the run, in the words a user knows it by."""
    if isinstance(exception, KeyboardInterrupt):
        return "Ctrl-C"
    if isinstance(exception, SIGTERMException):
        return "SIGTERM"
    code = exception.code if isinstance(exception, SystemExit) else None
    # submitit exits this way on preemption or timeout, after requeueing the job.
    return f"the scheduler (exit code {code}: preempted or timed out; a requeued job resumes)"


class RunStatus(pl.Callback):
    """Writes metrics.json when a run ends early: `status: diverged` (naming the last good
    checkpoint) or `status: interrupted` (Ctrl-C, SIGTERM, preemption: the step reached and
    how to resume), and keeps time/fit_seconds counting across resumed attempts."""

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)
        self.fit_start = time.perf_counter()
        self.earlier: dict[str, Any] = {}
        self.stop_watch: Callable[[], None] = lambda: None
        self.ctrl_c = False
        self._previous_sigint: Any = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.fit_start = time.perf_counter()
        self.earlier = {}
        self.stop_watch = watch_for_sigterm(trainer, self._stuck)
        self._defer_ctrl_c()
        record = RunRecord(self.output_dir)
        # Only a run resumed in its own folder continues the attempts recorded there.
        if trainer.ckpt_path and record.status in (Status.COMPLETED, Status.INTERRUPTED):
            self.earlier = record.read()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_watch()
        self._restore_ctrl_c()

    def _defer_ctrl_c(self) -> None:
        """Ctrl-C stops training at the next step's end, as Lightning does with SIGTERM: a
        KeyboardInterrupt raised anywhere can leave a lock held (a writer thread's queue) and
        hang the shutdown; a second Ctrl-C interrupts at once."""
        self.ctrl_c = False
        self._previous_sigint = None
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: Any) -> None:
            if self.ctrl_c:
                raise KeyboardInterrupt
            self.ctrl_c = True

        self._previous_sigint = signal.signal(signal.SIGINT, handler)

    def _restore_ctrl_c(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.ctrl_c:
            raise KeyboardInterrupt

    on_validation_batch_end = on_train_batch_end

    def _stuck(self, message: str) -> None:
        """A DDP job that SIGTERM must end while rank 0 is stuck in a collective."""
        log.warning("%s; %s.", message, how_to_resume(self.output_dir))
        seconds = round(time.perf_counter() - self.fit_start, 3)
        RunRecord(self.output_dir).write(
            Status.INTERRUPTED, {"time/fit_seconds": seconds}, error=message
        )

    def fit_seconds(self, trainer: pl.Trainer, seconds: float) -> float:
        """This fit's seconds plus earlier attempts'; a finished run resumed keeps its own."""
        before = self.earlier.get("time/fit_seconds")
        if before is None:
            return round(seconds, 3)
        if Status.of(self.earlier["status"]) is Status.COMPLETED and self.earlier.get(
            "train/steps"
        ) == (trainer.global_step):
            return float(before)  # nothing was trained: the resume only re-ran the test
        return round(float(before) + seconds, 3)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self.stop_watch()
        self._restore_ctrl_c()
        if isinstance(exception, TrainingDiverged):
            self._diverged(trainer, pl_module, exception)
        elif isinstance(exception, KeyboardInterrupt | SystemExit):
            self._interrupted(trainer, exception)
        elif isinstance(exception, ConfigError) and trainer.is_global_zero:
            # e.g. a checkpoint that cannot be written (a full disk): the run says so.
            with contextlib.suppress(OSError):  # the disk may be too full even for this
                RunRecord(self.output_dir).write(Status.FAILED, error=str(exception))
        launcher = trainer.strategy.launcher
        if trainer.is_global_zero and launcher is not None and hasattr(launcher, "kill"):
            # A job that fails on rank 0 ends on every rank: the ranks Lightning started for it
            # would wait in a collective for a rank 0 that has moved on to the next job.
            launcher.kill(signal.SIGKILL)

    def _diverged(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: TrainingDiverged
    ) -> None:
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
            seconds = round(time.perf_counter() - self.fit_start, 3)
            RunRecord(self.output_dir).write(
                Status.DIVERGED, {"time/fit_seconds": seconds}, error=message
            )

    def _interrupted(self, trainer: pl.Trainer, exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            # Lightning's SIGTERMException exits with status 0; a stopped run is not a success.
            exception.code = 128 + signal.SIGTERM
        if not trainer.is_global_zero:
            return
        checkpoint = trainer.checkpoint_callback
        last = Path(checkpoint.dirpath) / "last.ckpt" if checkpoint else None
        if last and last.is_file():
            then = f"{how_to_resume(self.output_dir)} (it continues from {last})"
        else:
            then = "no checkpoint was saved yet, so run the command again to start over"
        message = (
            f"interrupted by {cause(exception)} at step {trainer.global_step} of "
            f"{trainer.max_steps}; {then}."
        )
        log.warning(message)
        seconds = time.perf_counter() - self.fit_start
        record = {
            "train/steps": trainer.global_step,
            "time/fit_seconds": self.fit_seconds(trainer, seconds),
        }
        RunRecord(self.output_dir).write(Status.INTERRUPTED, record, error=message)


def total_fit_seconds(trainer: pl.Trainer, seconds: float) -> float:
    """time/fit_seconds for metrics.json: counted over every attempt when RunStatus is on."""
    status = next((c for c in trainer.callbacks if isinstance(c, RunStatus)), None)
    return status.fit_seconds(trainer, seconds) if status else round(seconds, 3)
