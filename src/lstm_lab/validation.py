"""Checks for values a user sets, raising ConfigError with one sentence that names the fix."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from lstm_lab.errors import ConfigError

log = logging.getLogger(__name__)


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer in [minimum, maximum]."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and value >= minimum and (maximum is None or value <= maximum)
    if not ok:
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ConfigError(f"{name}={value!r} is invalid: set {name} to an integer {bound}.")
    return value


def check_float(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number in the interval from `low` to `high` (open ends where asked)."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    ok = number is not None and math.isfinite(number)
    ok = ok and (number > low if low_open else number >= low)
    ok = ok and (number < high if high_open else number <= high)
    if not ok:
        interval = (
            f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            if math.isfinite(high)
            else f"{'>' if low_open else '>='} {low:g}"
        )
        raise ConfigError(f"{name}={value!r} is invalid: set {name} to a number in {interval}.")
    return float(number)


def check_bool(name: str, value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is invalid: set {name} to true or false.")
    return value


# What eval.py and export.py suggest when a run folder is read-only.
WRITABLE_FIX = "copy the run somewhere writable or choose another output"


def check_writable_dir(folder: Any, what: str, fix: str, keep: bool = True) -> Path:
    """A folder this process can create and write into; `keep=False` only probes, removing
    the folders it made (for a path checked before anything should exist).

    A failure reads `cannot write <what> (<reason>): <fix>.`
    """
    folder = Path(folder).expanduser()
    made = []
    probe = folder.absolute()
    while not probe.exists() and probe != probe.parent:
        made.append(probe)  # deepest first
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise ConfigError(f"cannot write {what} ({reason}): {fix}.") from None
    finally:
        for path in made if not keep else []:
            with contextlib.suppress(OSError):
                path.rmdir()
    return folder


# Settings that name a folder: never empty (an empty one writes at the working directory or
# the filesystem's root).
FOLDER_KEYS = ("paths.root_dir", "paths.log_dir", "hydra.run.dir", "hydra.sweep.dir")
# Settings that become one folder's name: a separator or `..` would move the run elsewhere.
NAME_KEYS = ("name", "task_name")


def check_folder_settings(config: Any) -> None:
    """The settings run and sweep folders are made from, before any folder is made."""
    from omegaconf import OmegaConf

    for key in FOLDER_KEYS:
        value = OmegaConf.select(config, key, default=None)
        if value is not None and not str(value).strip():
            raise ConfigError(f"{key} is empty: set {key}=<a folder> (or leave it out).")
    for key in NAME_KEYS:
        value = str(OmegaConf.select(config, key, default=""))
        if not value.strip() or "/" in value or "\\" in value or value in (".", ".."):
            example = re.sub(r"[/\\.]+", "_", value).strip("_") or "myrun"
            raise ConfigError(
                f"{key}={value!r} is not a folder name: use a name without / or \\ "
                f"(e.g. {key}={example})."
            )


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of a fixed set of names."""
    choices = tuple(choices)
    if value not in choices:
        names = ", ".join(map(str, choices))
        raise ConfigError(f"{name}={value!r} is not a choice: set {name} to one of {names}.")
    return value


ACCELERATORS = ("auto", "cpu", "gpu", "cuda")
CLIP_ALGORITHMS = ("norm", "value")


BACKTEST_PARTS = ("all", "training")


def check_backtest(backtest: Any) -> tuple[int, int, bool | int, str]:
    """A forecasting run's backtest settings: (windows, step, refit, part)."""
    windows = check_int("backtest.windows", backtest.windows, minimum=0)
    step = check_int("backtest.step", backtest.step)
    refit = backtest.refit
    if not isinstance(refit, bool):
        refit = check_int("backtest.refit", refit, minimum=0)
    part = check_choice("backtest.part", backtest.part, BACKTEST_PARTS)
    return windows, step, refit, part


def check_run_config(cfg: Any) -> None:
    """Check the top-level and trainer values before anything is built or written."""
    if cfg.get("seed") is not None:
        check_int("seed", cfg.seed, minimum=0)
    if cfg.get("num_threads") is not None:
        check_int("num_threads", cfg.num_threads)
    trainer = cfg.trainer
    check_choice("trainer.accelerator", trainer.accelerator, ACCELERATORS)
    devices = trainer.get("devices", 1)
    if not (devices in ("auto", -1) or isinstance(devices, list | tuple)):
        check_int("trainer.devices", devices, minimum=1)
    check_int("trainer.max_steps", trainer.max_steps)
    clamp_val_check_interval(cfg)
    check_int("trainer.val_check_interval", trainer.val_check_interval, 1, trainer.max_steps)
    check_int("trainer.log_every_n_steps", trainer.log_every_n_steps)
    if trainer.get("gradient_clip_val") is not None:
        check_float("trainer.gradient_clip_val", trainer.gradient_clip_val, 0)
    if trainer.get("gradient_clip_algorithm") is not None:
        check_choice(
            "trainer.gradient_clip_algorithm", trainer.gradient_clip_algorithm, CLIP_ALGORITHMS
        )
    accumulate = trainer.get("accumulate_grad_batches", 1)
    if accumulate != 1:
        raise ConfigError(
            f"trainer.accumulate_grad_batches={accumulate!r} is not supported, as every batch is "
            "one optimizer step (model.steps_per_execution groups steps, never gradients): "
            "raise data.batch_size instead."
        )
    check_accelerator(trainer.accelerator)
    if cfg.get("backtest"):
        check_backtest(cfg.backtest)
    for name, node in (cfg.get("callbacks") or {}).items():
        if node is not None and node.get("dirpath"):
            key = f"callbacks.{name}.dirpath"
            fix = f"set {key}=<a folder you can write to>"
            check_writable_dir(node.dirpath, f"under {key}={node.dirpath}", fix, keep=False)
    check_model_fits_data(cfg)
    check_memory(cfg)
    if cfg.get("ckpt_path"):
        from lstm_lab.checkpoints import read_checkpoint

        read_checkpoint(cfg.ckpt_path)


def given_on_command_line(key: str) -> bool:
    """Whether the user set `key` in this command (not an experiment or preset file)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return False
    return any(o.split("=", 1)[0].lstrip("+") == key for o in HydraConfig.get().overrides.task)


def clamp_val_check_interval(cfg: Any) -> None:
    """A run shortened with trainer.max_steps alone validates at its end rather than failing."""
    trainer = cfg.trainer
    interval, steps = trainer.val_check_interval, trainer.max_steps
    if (
        isinstance(interval, int)
        and interval > steps
        and not given_on_command_line("trainer.val_check_interval")
    ):
        log.info(
            "trainer.val_check_interval=%d is more than trainer.max_steps=%d: validating "
            "every %d steps instead",
            interval,
            steps,
            steps,
        )
        trainer.val_check_interval = steps


def check_model_fits_data(cfg: Any) -> None:
    """The model's task (its class attribute `task`) is the datamodule's: caught before building."""
    from hydra.utils import get_class

    from lstm_lab.config import CONFIG_DIR

    model_task = getattr(get_class(cfg.model._target_), "task", None)
    data_task = getattr(get_class(cfg.data._target_), "task", None)
    if model_task != data_task:
        fitting = sorted(
            p.stem
            for p in (Path(CONFIG_DIR) / "model").glob("[!_]*.yaml")
            if getattr(get_class(yaml.safe_load(p.read_text())["_target_"]), "task", None)
            == data_task
        )
        raise ConfigError(
            f"model {cfg.model._target_.rsplit('.', 1)[-1]} predicts {model_task} but "
            f"data {cfg.data._target_.rsplit('.', 1)[-1]} holds {data_task}: use "
            f"model={' or model='.join(fitting)} with this data, or an experiment made for it."
        )


def check_memory(cfg: Any) -> None:
    """Refuse, with the estimate, a model or batch that cannot fit in this machine's memory."""
    import torch

    model, data = cfg.model, cfg.data
    hidden = check_int("model.hidden_size", model.hidden_size)
    layers = check_int("model.num_layers", model.num_layers)
    batch = check_int("data.batch_size", data.batch_size)
    inputs = check_int("model.input_size", model.get("input_size", 1))
    steps = data.get("n_timesteps") or data.get("lookback") or 1
    directions = 2 if model.get("bidirectional") else 1
    width = hidden * directions
    weights = directions * 4 * (hidden * (inputs + hidden) + 2 * hidden)
    weights += (layers - 1) * directions * 4 * (hidden * (width + hidden) + 2 * hidden)
    # float32: weights, gradients and two Adam moments; per step and layer the four gates,
    # cell, hidden and tanh(cell) kept for the backward pass, and about as much in gradients.
    estimate = 4 * (4 * weights + 2 * batch * steps * (inputs + layers * width * 7))
    accelerator = cfg.trainer.get("accelerator", "auto")
    on_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    if on_gpu:
        available, where = torch.cuda.mem_get_info()[1], "the GPU has"
    else:
        available, where = (
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "this machine has",
        )
    if estimate > available:
        raise ConfigError(
            f"model.hidden_size={hidden} with data.batch_size={batch} needs about "
            f"{format_bytes(estimate)} to train and {where} {format_bytes(available)}: "
            "lower model.hidden_size or data.batch_size."
        )


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if n < 1000 else f"{n:,.0f} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"


def check_accelerator(accelerator: str) -> None:
    """Fail before any work when the config asks for a GPU this machine does not have."""
    import torch

    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} needs a CUDA GPU, but none is available here; "
            "run with trainer=cpu (or trainer=default, which picks what is present)."
        )


def check_n_trials(n_trials: object) -> None:
    """An Optuna search's `hydra.sweeper.n_trials` must ask for at least one trial."""
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise ConfigError(
            f"hydra.sweeper.n_trials={n_trials} runs no trial: set it to the study's total "
            "number of trials, e.g. hydra.sweeper.n_trials=20 (a stored study runs only the "
            "trials it lacks)."
        )
