"""Run and sweep folders that are never shared by accident, and never left behind by a mistake.

A Hydra callback rather than a resolver: Hydra re-composes every sweep job's config, so only
the master config's overrides (which every job re-applies) carry one folder to all jobs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict, read_write

# Rank 0 of a DDP job names its sweep folder here; Lightning starts the other ranks by
# re-running the command line with this environment, so they join that folder.
SWEEP_DIR_VARIABLE = "LSTM_LAB_SWEEP_DIR"
# What a folder that already holds a run has in it.
RUN_RECORDS = (".hydra", "metrics.json", "checkpoints")
# The run folder this process made (and the parents it had to make), which a refused
# command removes again.
_created: list[Path] = []
_parents: list[Path] = []


def claim(path: str | Path) -> Path:
    """Create `path`, or `path_2`, `path_3`, ... if taken; atomic, so two processes never share."""
    base = Path(path).absolute()
    parent = base.parent
    while not parent.exists():
        _parents.append(parent)  # deepest first, for discard_refused_run
        parent = parent.parent
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = base if n == 1 else base.with_name(f"{base.name}_{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free folder name next to {base}")


def is_other_rank() -> bool:
    """True in a process Lightning started for DDP rank 1, 2, ... (it re-runs the command)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0


def given(config: DictConfig, key: str) -> bool:
    """Whether the command line set `key` (e.g. hydra.run.dir) itself."""
    return any(o.split("=", 1)[0].lstrip("+") == key for o in config.hydra.overrides.hydra)


class UniqueRunDirs(Callback):
    """Gives every run and sweep a folder of its own, made atomically with a suffix when taken.

    A folder set on the command line is used as given (resume, a chosen sweep to continue);
    `sweep: false` keeps a sweep folder that is meant to be found again (an Optuna study).
    """

    def __init__(self, run: bool = True, sweep: bool = True) -> None:
        self.run, self.sweep = run, sweep

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_other_rank():
            return  # Lightning passes rank 0's hydra.run.dir on the command line
        folder = Path(str(config.hydra.run.dir))
        chosen = given(config, "hydra.run.dir") or not self.run
        if chosen and folder.exists():
            return  # a folder that holds a run already (resume=) is never removed
        folder = claim(folder)
        _created.append(folder)
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.run.dir = str(folder)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_other_rank() and SWEEP_DIR_VARIABLE in os.environ:
            folder = os.environ[SWEEP_DIR_VARIABLE]
        elif self.sweep and not given(config, "hydra.sweep.dir"):
            folder = str(claim(str(config.hydra.sweep.dir)))
        else:
            folder = str(config.hydra.sweep.dir)
        os.environ[SWEEP_DIR_VARIABLE] = folder
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.sweep.dir = folder
            # Every job re-composes its config from these overrides: they carry the folder.
            quoted = folder.replace("\\", "\\\\").replace("'", "\\'")
            config.hydra.overrides.hydra.append(f"hydra.sweep.dir='{quoted}'")


def discard_refused_run() -> None:
    """Remove the run folder this process made if nothing but Hydra's records went into it."""
    for folder in _created:
        # A checkpoint or a metrics.json is a result; everything else is a record of the start.
        if not any(folder.rglob("*.ckpt")) and not (folder / "metrics.json").exists():
            shutil.rmtree(folder, ignore_errors=True)
            for parent in _parents:
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only while empty
    _created.clear()
    _parents.clear()
