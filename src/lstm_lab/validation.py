"""Checks for values a user sets, raising ConfigError with one sentence that names the fix."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from lstm_lab.errors import ConfigError


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


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of a fixed set of names."""
    choices = tuple(choices)
    if value not in choices:
        names = ", ".join(map(str, choices))
        raise ConfigError(f"{name}={value!r} is not a choice: set {name} to one of {names}.")
    return value


ACCELERATORS = ("auto", "cpu", "gpu", "cuda")


def check_run_config(cfg: Any) -> None:
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
    import torch

    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} needs a CUDA GPU, but none is available here; "
            "run with trainer=cpu (or trainer=default, which picks what is present)."
        )
