"""What every entry point shares on the command line: checks made before Hydra starts, the
`resume=<run_dir>` shortcut, and one-sentence reports of user mistakes.

Hydra reports a bad config group or an unwritable run directory with a stack trace; these
are user mistakes, so they are caught here and reported in one sentence instead.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lstm_lab.errors import ConfigError, TrainingDiverged
from lstm_lab.sweep.resume import sweep_argv

T = TypeVar("T")
# Old option names, so a command from an older README gets told the new one.
RENAMED = {
    "experiment": {
        "stacked_lstm_seed": "stacked_lstm_keras",
        "lstm_seed": "lstm_keras",
        "bilstm_seed": "bilstm_keras",
    },
    "data": {"sine_product": "function"},
}


def _split(override: str) -> tuple[str, str] | None:
    if "=" not in override or override.startswith("~"):
        return None
    key, value = override.split("=", 1)
    return key.lstrip("+"), value


def check_group_choices(overrides: list[str], config_dir: Path) -> None:
    """`group=name` must name a file in configs/<group>/ (for every value of a sweep list)."""
    for override in overrides:
        parts = _split(override)
        if parts is None:
            continue
        key, value = parts
        group_dir = config_dir / key
        if not group_dir.is_dir() or "(" in value or value in ("null", ""):
            continue
        # Options whose name starts with "_" are shared bases, not choices.
        available = sorted(p.stem for p in group_dir.glob("*.yaml") if p.stem[0] != "_")
        for name in value.split(","):
            if name in RENAMED.get(key, {}):
                raise ConfigError(
                    f"{key}={name} is now called {key}={RENAMED[key][name]}; use that name."
                )
            if name not in available:
                raise ConfigError(
                    f"{key}={name} is not in configs/{key}/: choose one of {', '.join(available)}."
                )


def check_output_dir(overrides: list[str]) -> None:
    """The folder runs will be written under must be creatable and writable."""
    target = Path("outputs")
    for override in overrides:
        parts = _split(override)
        if parts and parts[0] in ("hydra.run.dir", "hydra.sweep.dir", "paths.log_dir"):
            target = Path(parts[1])
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as error:
        raise ConfigError(
            f"cannot write runs under {target} ({error.strerror.lower()}): choose a writable "
            "folder with hydra.run.dir=<folder> or paths.log_dir=<folder>."
        ) from None


def resume_overrides(run_dir: Path, overrides: list[str]) -> list[str]:
    """Overrides that continue the run in `run_dir`: its own, the user's, its last checkpoint."""
    run_dir = run_dir.absolute()
    saved = run_dir / ".hydra" / "overrides.yaml"
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if not saved.is_file() or not checkpoint.is_file():
        raise ConfigError(
            f"resume={run_dir} is not a run folder with .hydra/overrides.yaml and "
            "checkpoints/last.ckpt: pass the folder that `python train.py` printed as Run dir."
        )
    given = {parts[0] for o in overrides if (parts := _split(o))}
    original = [
        o
        for o in yaml.safe_load(saved.read_text()) or []
        if (parts := _split(o)) and parts[0] not in given | {"ckpt_path"}
    ]
    return [*original, *overrides, f"ckpt_path={checkpoint}", f"hydra.run.dir={run_dir}"]


def prepare_argv(argv: list[str], config_dir: Path) -> list[str]:
    """Expand `resume=` and check what Hydra would otherwise report with a stack trace."""
    args = sweep_argv(argv[1:])  # resume=<sweep dir>, and a re-run sweep must match its folder
    resume = [a for a in args if a.startswith("resume=")]
    if resume:
        args = [a for a in args if not a.startswith("resume=")]
        overrides = [a for a in args if _split(a) and not a.startswith("-")]
        others = [a for a in args if a not in overrides]
        args = others + resume_overrides(Path(resume[-1].split("=", 1)[1]), overrides)
    overrides = [a for a in args if not a.startswith("-")]
    check_group_choices(overrides, config_dir)
    check_output_dir(overrides)
    return [argv[0], *args]


def report(error: Exception) -> None:
    """Print a user mistake as one line on stderr (HYDRA_FULL_ERROR=1 re-raises instead)."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise error
    if any(isinstance(h, logging.FileHandler) for h in logging.getLogger().handlers):
        # Inside a run: train.log keeps the error too (the terminal has it from stderr).
        logging.getLogger("lstm_lab").error("error: %s", error, extra={"file_only": True})
    # In a terminal, start on a line of our own, whatever a progress bar left on the current one.
    start = "\n" if sys.stderr.isatty() else ""
    print(f"{start}error: {error}", file=sys.stderr, flush=True)


def one_sentence_errors(function: Callable[..., T]) -> Callable[..., T]:
    """An entry point's work, where a user mistake ends the process with one line: exit 2
    for a ConfigError, 1 for a diverged training."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except (ConfigError, TrainingDiverged) as error:
            report(error)
            sys.exit(2 if isinstance(error, ConfigError) else 1)

    return guarded
