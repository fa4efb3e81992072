"""The trial's side of pruning: report each validation to the study, stop when it says so."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig

from lstm_lab.errors import TrialPruned
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

log = logging.getLogger(__name__)


class OptunaPruning(pl.Callback):
    """Reports `monitor` to the job's Optuna trial at every validation; stops a pruned trial.

    Inert outside an Optuna search with `hydra.sweeper.pruner` set. The job finds its trial
    from its own Hydra config (the sweeper's storage and study name; its job number is its
    trial number), so this works in the sweeper's process and in any launcher's workers.
    """

    def __init__(self, output_dir: str, monitor: str = "val/loss", mode: str = "min") -> None:
        self.output_dir = Path(output_dir)
        self.monitor = monitor
        self.mode = mode
        self.trial: Any = None
        self.sign = 1.0
        self.start = time.perf_counter()

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit" or not HydraConfig.initialized():
            return
        hydra = HydraConfig.get()
        sweeper = hydra.sweeper
        if sweeper.get("pruner", "none") == "none" or not trainer.is_global_zero:
            return
        from hydra_plugins.lstm_lab_optuna_sweeper.study import job_trial

        self.trial = job_trial(sweeper, int(hydra.job.num), trainer.max_steps)
        maximize = self.trial.study.direction.name == "MAXIMIZE"
        # The pruner compares values in the study's direction; a loss falls as it improves.
        self.sign = -1.0 if maximize == (self.mode == "min") else 1.0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if self.trial is None or trainer.sanity_checking or value is None:
            return
        step = trainer.global_step
        self.trial.report(self.sign * float(value), step)
        if not self.trial.should_prune():
            return
        self.trial.set_user_attr("pruned_at_step", step)
        message = (
            f"stopped at step {step} of {trainer.max_steps}: {self.monitor} = {float(value):.4g} "
            "was not among the promising trials there"
        )
        self._write_metrics(trainer, float(value), step, message)
        log.info("Trial %d pruned: %s", self.trial.number, message)
        raise TrialPruned(message)

    def _write_metrics(self, trainer: pl.Trainer, value: float, step: int, message: str) -> None:
        checkpoint = trainer.checkpoint_callback
        best = getattr(checkpoint, "best_model_score", None)
        # The checkpoint callback runs after this one and has not seen this validation yet.
        candidates = [value] + ([float(best)] if best is not None else [])
        metrics = {
            "val/best": min(candidates) if self.mode == "min" else max(candidates),
            "train/steps": step,
            "time/fit_seconds": round(time.perf_counter() - self.start, 3),
        }
        RunRecord(self.output_dir).write(Status.PRUNED, metrics, error=message)
