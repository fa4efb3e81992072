"""The training entry point: compose the config, fit, test on the best checkpoint, report."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig

from lstm_lab.cli import prepare_argv, report
from lstm_lab.data import SineProductDataModule
from lstm_lab.errors import ConfigError, TrainingDiverged
from lstm_lab.forecast import forecast_test_part, rollout
from lstm_lab.hparams import log_hparams, run_hparams
from lstm_lab.tracking import log_record
from lstm_lab.validation import check_choice, check_int

log = logging.getLogger(__name__)

CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "configs")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda")


def check_run_config(cfg: DictConfig) -> None:
    """Check the top-level and trainer values before anything is built or written."""
    if cfg.get("seed") is not None:
        check_int("seed", cfg.seed, minimum=0)
    if cfg.get("num_threads") is not None:
        check_int("num_threads", cfg.num_threads)
    trainer = cfg.trainer
    check_choice("trainer.accelerator", trainer.accelerator, ACCELERATORS)
    check_int("trainer.max_steps", trainer.max_steps)
    check_int("trainer.val_check_interval", trainer.val_check_interval, 1, trainer.max_steps)
    check_int("trainer.log_every_n_steps", trainer.log_every_n_steps)
    check_accelerator(trainer.accelerator)


def check_accelerator(accelerator: str) -> None:
    """Fail before any work when the config asks for a GPU this machine does not have."""
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} needs a CUDA GPU, but none is available here; "
            "run with trainer=cpu (or trainer=default, which picks what is present)."
        )


def instantiate(node: DictConfig, **kwargs: Any) -> Any:
    """hydra.utils.instantiate with plain containers, surfacing our ConfigError unwrapped."""
    try:
        return hydra.utils.instantiate(node, _convert_="all", **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, ConfigError):
            raise error.__cause__ from None
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write then rename, so a killed process never leaves a half-written file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def format_table(metrics: dict[str, float]) -> str:
    width = max(len(k) for k in metrics)
    rows = [f"  {'metric':<{width}}  value", f"  {'-' * width}  ------"]
    rows += [f"  {k:<{width}}  {v:.6g}" for k, v in metrics.items()]
    return "\n".join(rows)


def save_plot(
    model: pl.LightningModule, datamodule: pl.LightningDataModule, path: Path, title: str
) -> Path:
    """The run's PNG: the seed's forecast figure, or a few test sequences labelled per step."""
    from lstm_lab import plotting

    model.eval()
    with torch.no_grad():
        x, y = datamodule.test
        if isinstance(datamodule, SineProductDataModule):
            prediction = model(x.to(model.device)).cpu()
            rolled = rollout(model, x[:1].to(model.device), len(y))[0].cpu()
            return plotting.plot_forecast(
                datamodule.xs,
                datamodule.ys,
                datamodule.test_xs,
                {
                    "LSTM one-step prediction": prediction,
                    "LSTM rollout from the first test window": rolled,
                },
                path,
                title,
                actual_label=f"actual f(x) = {datamodule.formula}",
            )
        x, y = x[:4], y[:4]
        prob = torch.sigmoid(model(x.to(model.device))).cpu()
        limit = datamodule.threshold_fraction * datamodule.n_timesteps
        return plotting.plot_sequences(x.squeeze(-1), y, prob, limit, path, title)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit and test the configured model; returns the final metrics written to metrics.json."""
    output_dir = Path(cfg.paths.output_dir)
    check_run_config(cfg)
    if cfg.get("num_threads"):
        torch.set_num_threads(cfg.num_threads)
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)

    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    for logger in loggers:
        # Open the writer before fit: importing TensorBoard (0.1 to 0.3 s) is start-up time,
        # not training time, and time/fit_seconds should measure training.
        logger.experiment  # noqa: B018
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    start = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except TrainingDiverged as error:
        last = Path(cfg.callbacks.model_checkpoint.dirpath) / "last.ckpt" if callbacks else None
        kept = (
            f"the last good checkpoint is {last}"
            if last and last.is_file()
            else "no checkpoint was saved before it"
        )
        message = (
            f"{error}: lower model.optimizer.lr (now {cfg.model.optimizer.lr}) or add a "
            f"schedule; {kept}."
        )
        if trainer.is_global_zero:
            record = {
                "status": "diverged",
                "error": message,
                "time/fit_seconds": round(time.perf_counter() - start, 3),
            }
            write_json(output_dir / "metrics.json", record)
            log_record(trainer.loggers, record)
        raise TrainingDiverged(error.step, error.loss, message) from None
    fit_seconds = time.perf_counter() - start

    metrics: dict[str, Any] = {}
    if cfg.get("test"):
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        trainer.test(model, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        metrics = {
            k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")
        }
        if isinstance(datamodule, SineProductDataModule):
            # Rollout and baseline scores beside the LSTM's (see lstm_lab/forecast.py).
            forecasts = forecast_test_part(model, datamodule).metrics()
            extra = {k: v for k, v in forecasts.items() if k not in metrics}
            metrics.update(extra)
            for logger in trainer.loggers:
                logger.log_metrics(extra, step=trainer.global_step)
                logger.save()  # the loggers were finalized when test ended
    if trainer.checkpoint_callback and trainer.checkpoint_callback.best_model_score is not None:
        metrics["val/best"] = float(trainer.checkpoint_callback.best_model_score)
    metrics["train/steps"] = trainer.global_step  # optimizer steps taken
    metrics["time/fit_seconds"] = round(fit_seconds, 3)
    metrics["status"] = "completed"

    if trainer.is_global_zero:
        log_hparams(trainer.loggers, run_hparams(cfg), metrics, step=trainer.global_step)
        write_json(output_dir / "metrics.json", metrics)
        if cfg.get("plot"):
            title = f"{cfg.name}: test predictions"
            if cfg.optimized_metric in metrics:
                title += f" ({cfg.optimized_metric} = {metrics[cfg.optimized_metric]:.4g})"
            save_plot(model, datamodule, output_dir / "predictions.png", title)
        log_record(trainer.loggers, metrics)
        numbers = {k: v for k, v in metrics.items() if k != "status"}
        print(f"\nRun dir: {output_dir}\n{format_table(numbers)}")
    return metrics


def record_failure(cfg: DictConfig, error: Exception) -> None:
    """A failed sweep job's metrics.json: status `failed` and the error, for the summary."""
    if isinstance(error, InstantiationException) and error.__cause__ is not None:
        error = error.__cause__  # the model's or datamodule's own error, not Hydra's wrapper
    # Our own errors are one sentence already; others keep their type to say what failed.
    text = str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}"
    message = " ".join(text.split())
    write_json(Path(cfg.paths.output_dir) / "metrics.json", {"status": "failed", "error": message})


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns `optimized_metric` so a sweeper can optimize it."""
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        metrics = train(cfg)
    except (ConfigError, TrainingDiverged) as error:
        if not multirun:
            report(error)
            sys.exit(2 if isinstance(error, ConfigError) else 1)
        # One failed job must not stop a sweep: record it for the summary and go on (a
        # diverged run has already written its metrics.json with status `diverged`).
        log.error(str(error))
        if isinstance(error, ConfigError):
            record_failure(cfg, error)
        return None
    except Exception as error:
        if not multirun:
            raise
        log.exception("This job failed: %s", error)
        record_failure(cfg, error)
        return None
    value = metrics.get(cfg.get("optimized_metric"))
    return None if value is None else float(value)


def cli() -> None:
    """`python train.py ...`: one-sentence errors for mistakes Hydra would print as a traceback."""
    try:
        sys.argv = prepare_argv(sys.argv, Path(CONFIG_DIR))
    except ConfigError as error:
        report(error)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
