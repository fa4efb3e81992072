"""TensorBoard's HPARAMS tab: a run's hyperparameters beside its real final metrics."""

from __future__ import annotations

from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import Logger, TensorBoardLogger

# Shown for every run, swept or not, so runs of different sweeps line up in one table.
ALWAYS_SHOWN = ("name", "seed", "trainer.max_steps", "data.batch_size")


def run_hparams(cfg: DictConfig) -> dict[str, Any]:
    """The run's overrides (swept or typed) plus its model and a few training settings."""
    hparams: dict[str, Any] = {key: OmegaConf.select(cfg, key) for key in ALWAYS_SHOWN}
    model = OmegaConf.to_container(cfg.model, resolve=True)
    hparams.update((f"model.{k}", v) for k, v in _flatten(model).items() if not k.startswith("_"))
    hydra_cfg = HydraConfig.get() if HydraConfig.initialized() else None
    for override in hydra_cfg.overrides.task if hydra_cfg else []:
        key, _, value = override.lstrip("+~").partition("=")
        if key in hydra_cfg.runtime.choices:
            # A config group (direction=backward): show the chosen option's name.
            hparams[key] = hydra_cfg.runtime.choices[key]
        elif not key.startswith("hydra."):
            hparams[key] = OmegaConf.select(cfg, key, default=value)
    return {k: _tensorboard_value(v) for k, v in hparams.items()}


def log_hparams(
    loggers: list[Logger], hparams: dict[str, Any], metrics: dict[str, Any], step: int
) -> None:
    """Write the HPARAMS session of each TensorBoard logger, with the final metrics as scalars.

    Only the session summaries are written, not an experiment summary: TensorBoard then
    builds the table from every run under its logdir, so runs of different sweeps (with
    different swept keys) share one table. The metric columns are the runs' scalar tags;
    test metrics are already scalars, the others are added here.
    """
    from torch.utils.tensorboard.summary import hparams as hparams_summary

    numbers = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
    for logger in loggers:
        if not isinstance(logger, TensorBoardLogger):
            continue
        extra = {k: v for k, v in numbers.items() if not k.startswith("test/")}
        logger.log_metrics(extra, step=step)
        _, session_start, session_end = hparams_summary(hparams, numbers)
        writer = logger.experiment._get_file_writer()
        writer.add_summary(session_start, step)
        writer.add_summary(session_end, step)
        # Lightning closed the writer after testing; writing reopened it.
        logger.finalize("success")


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _tensorboard_value(value: Any) -> int | float | str:
    # HPARAMS takes numbers and strings (torch's writer would turn a bool into 1.0).
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return value
    return str(value)
