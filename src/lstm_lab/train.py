"""The training entry point: build, fit, test on the best checkpoint, report.

`train(cfg)` reads straight through; everything task-specific comes from the objects the
config names (the datamodule's report and plot hooks, the callbacks), so a new task needs
no edit here.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from lstm_lab.callbacks.run_status import total_fit_seconds
from lstm_lab.checkpoints import check_fits
from lstm_lab.cli import launch, one_sentence_errors
from lstm_lab.config import CONFIG_DIR, instantiate
from lstm_lab.errors import ConfigError, TrainingDiverged, TrialPruned
from lstm_lab.io import format_table
from lstm_lab.logs import quiet_third_party
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status
from lstm_lab.sweep.resume import run_job
from lstm_lab.tasks import Task
from lstm_lab.tasks.base import task_settings
from lstm_lab.tensorboard_hparams import log_hparams, run_hparams
from lstm_lab.tracking import log_record
from lstm_lab.validation import check_run_config

log = logging.getLogger(__name__)
CLIP_KEYS = ("gradient_clip_val", "gradient_clip_algorithm")


def build(
    cfg: DictConfig,
) -> tuple[Task, pl.LightningDataModule, pl.LightningModule, pl.Trainer]:
    """The task, datamodule, model and trainer (with its callbacks and loggers) the config names."""
    task = instantiate(cfg.task, **task_settings(cfg))
    datamodule = instantiate(cfg.data)
    # What the model's shape takes from the data (a real series' horizon, season, inputs).
    model = instantiate(cfg.model, **getattr(datamodule, "model_arguments", {}))
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    for logger in loggers:
        # Open the writer before fit: importing TensorBoard (0.1 to 0.3 s) is start-up time,
        # not training time, and time/fit_seconds should measure training.
        logger.experiment  # noqa: B018
    # Lightning clips gradients only under automatic optimization; the module optimizes by
    # hand (several steps per Lightning batch) and clips with these values itself.
    model.gradient_clip = tuple(cfg.trainer.get(key) for key in CLIP_KEYS)
    trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, **dict.fromkeys(CLIP_KEYS)
    )
    return task, datamodule, model, trainer


def test(
    task: Task, trainer: pl.Trainer, model: pl.LightningModule, datamodule: Any
) -> dict[str, float]:
    """Test metrics of the best checkpoint, plus the task's own (task.extra_test_metrics)."""
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    trainer.test(
        model, datamodule=datamodule, ckpt_path=best or None, verbose=False, weights_only=True
    )
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
    extra = task.extra_test_metrics(model, datamodule)
    extra = {k: v for k, v in extra.items() if k not in metrics}
    if extra:
        for logger in trainer.loggers:
            logger.log_metrics(extra, step=trainer.global_step)
            logger.save()  # the loggers were finalized when test ended
    return metrics | extra


def write_report(
    cfg: DictConfig,
    task: Task,
    trainer: pl.Trainer,
    model: Any,
    datamodule: Any,
    metrics: dict[str, Any],
) -> None:
    """metrics.json, TensorBoard's HPARAMS row, the PNG, the table, MLflow's record (rank 0)."""
    output_dir = Path(cfg.paths.output_dir)
    log_hparams(trainer.loggers, run_hparams(cfg), metrics, step=trainer.global_step)
    RunRecord(output_dir).write(Status.COMPLETED, metrics)
    if cfg.get("plot"):
        title = f"{cfg.name}: test predictions"
        if isinstance(cfg.optimized_metric, str) and cfg.optimized_metric in metrics:
            title += f" ({cfg.optimized_metric} = {metrics[cfg.optimized_metric]:.4g})"
        model.eval()
        task.plot_predictions(model, datamodule, output_dir / "predictions.png", title)
    numbers = {k: v for k, v in metrics.items() if k != "status"}
    log.info("Run dir: %s\n%s", output_dir, format_table(numbers))
    log_record(trainer.loggers, metrics)  # MLflow's copy of the files above, train.log too


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit and test the configured model; returns the final metrics written to metrics.json."""
    check_run_config(cfg)
    if cfg.get("num_threads"):
        torch.set_num_threads(cfg.num_threads)
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)

    task, datamodule, model, trainer = build(cfg)
    if cfg.get("ckpt_path"):
        check_fits(model, cfg.ckpt_path)  # before naming a run dir that a refusal removes
    log.info(
        "%s: %s on %s, %d steps, seed %s; run dir %s",
        cfg.name,
        type(model).__name__,
        type(datamodule).__name__,
        cfg.trainer.max_steps,
        cfg.get("seed"),
        cfg.paths.output_dir,
    )
    start = time.perf_counter()
    # weights_only: a checkpoint is data, whoever wrote it.
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"), weights_only=True)
    fit_seconds = time.perf_counter() - start
    metrics: dict[str, Any] = test(task, trainer, model, datamodule) if cfg.get("test") else {}
    metrics |= task.backtest(cfg, Path(cfg.paths.output_dir) / "backtest")
    if trainer.checkpoint_callback and trainer.checkpoint_callback.best_model_score is not None:
        metrics["val/best"] = float(trainer.checkpoint_callback.best_model_score)
    metrics["train/steps"] = trainer.global_step  # optimizer steps taken
    metrics["time/fit_seconds"] = total_fit_seconds(trainer, fit_seconds)
    metrics["status"] = Status.COMPLETED.value
    if trainer.is_global_zero:
        write_report(cfg, task, trainer, model, datamodule, metrics)
    return metrics


def record_failure(cfg: DictConfig, error: Exception) -> None:
    """A failed sweep job's metrics.json: status `failed` and the error, for the summary."""
    if isinstance(error, InstantiationException) and error.__cause__ is not None:
        error = error.__cause__  # the model's or datamodule's own error, not Hydra's wrapper
    # Our own errors are one sentence already; others keep their type to say what failed.
    message = str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}"
    RunRecord(cfg.paths.output_dir).write(Status.FAILED, error=message)


def run(cfg: DictConfig) -> float | list[float] | None:
    """Train one composed config; returns `optimized_metric` (one or a list) for a sweeper.

    A single run lets errors reach the caller; a sweep job records its failure in
    metrics.json and returns None, so one failed job does not stop the sweep.
    """
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        try:
            metrics = run_job(cfg, train)  # continues what an earlier invocation left
        except (ConfigError, TrainingDiverged) as error:
            log.error(str(error))
            if isinstance(error, ConfigError):  # a diverged run wrote its metrics.json already
                record_failure(cfg, error)
            return None
        except TrialPruned:
            return None  # the pruning callback has recorded it, in metrics.json and the study
        except Exception as error:
            log.exception("This job failed: %s", error)
            record_failure(cfg, error)
            return None
    else:
        try:
            metrics = train(cfg)
        except (ConfigError, TrainingDiverged, KeyboardInterrupt):
            raise  # one sentence (cli.one_sentence_errors), or recorded by RunStatus
        except Exception as error:
            record_failure(cfg, error)  # every ending has a status, a bug's too
            raise
    names = cfg.get("optimized_metric")
    values = [metrics.get(n) for n in (names if OmegaConf.is_list(names) else [names])]
    if None in values:
        return None
    return [float(v) for v in values] if OmegaConf.is_list(names) else float(values[0])


main = hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")(
    one_sentence_errors(run)
)


def cli() -> None:
    """`python train.py ...`: one-sentence errors for mistakes Hydra would print as a traceback."""
    quiet_third_party()
    launch(main, "train")
