"""Run and sweep folders that are never shared by accident, and never left behind by a mistake:
the only code that makes them, claims them (atomically, `_2`, `_3` when taken) and locks them.

Called from a Hydra callback (sweep/callback.py: RunFolders) rather than a resolver: Hydra
re-composes every sweep job's config, so only the master config's overrides (which every job
re-applies) carry one folder to all jobs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

from omegaconf import DictConfig, open_dict, read_write

from lstm_lab.errors import ConfigError
from lstm_lab.replay import path_override

# Rank 0 of a DDP job names its sweep folder here; Lightning starts the other ranks by
# re-running the command line with this environment, so they join that folder.
SWEEP_DIR_VARIABLE = "LSTM_LAB_SWEEP_DIR"
# What a folder that already holds a run has in it.
RUN_RECORDS = (".hydra", "metrics.json", "checkpoints")
# The run folder this process made (and the parents it had to make), which a refused
# command removes again.
_created: list[Path] = []
_parents: list[Path] = []
# Folders this process holds the lock of (file descriptors of their .lock).
LOCK_FILE = ".lock"
_locks: dict[Path, int] = {}


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


def claim_run(config: DictConfig, unique: bool = True) -> Path:
    """Claim and lock this run's folder; a folder the command line chose is used as given."""
    folder = Path(str(config.hydra.run.dir))
    chosen = given(config, "hydra.run.dir") or not unique
    if not (chosen and folder.exists()):  # a folder that holds a run already (resume=) stays
        folder = claim(folder)
        _created.append(folder)
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.run.dir = str(folder)
    lock(folder, "a run")
    return folder


def claim_sweep(config: DictConfig, unique: bool = True) -> Path:
    """Claim this sweep's folder (once, in the process that starts it) and carry it to every
    job; locked unless the sweep is an Optuna search, whose workers share one study folder."""
    if is_other_rank() and SWEEP_DIR_VARIABLE in os.environ:
        folder = Path(os.environ[SWEEP_DIR_VARIABLE])  # DDP ranks 1, 2, ... join rank 0's
    elif unique and not given(config, "hydra.sweep.dir"):
        folder = claim(str(config.hydra.sweep.dir))
    else:
        folder = Path(str(config.hydra.sweep.dir)).absolute()
        folder.mkdir(parents=True, exist_ok=True)
    if "optuna" not in str(config.hydra.sweeper.get("_target_", "")).lower():
        lock(folder, "a sweep")  # (ranks 1, 2, ... work under rank 0's lock)
    os.environ[SWEEP_DIR_VARIABLE] = str(folder)
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.sweep.dir = str(folder)
        # Every job re-composes its config from these overrides: they carry the folder.
        config.hydra.overrides.hydra.append(path_override("hydra.sweep.dir", folder))
    return folder


def lock(folder: Path, what: str) -> None:
    """Hold `folder`/.lock while this process works there; a second writer is refused.

    flock: the kernel drops the lock with the process that held it, so a killed run never
    blocks the next one.
    """
    folder = Path(folder).absolute()
    if folder in _locks or is_other_rank():
        return  # DDP ranks 1, 2, ... work under rank 0's lock
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise ConfigError(
            f"cannot lock {folder} ({(error.strerror or str(error)).lower()}): "
            "it must be a folder you can write, with no .lock link in it."
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"{folder} is in use: {what} is writing there now; wait until it ends, or "
            "choose another folder."
        ) from None
    _locks[folder] = fd


def unlock(folder: Path) -> None:
    """Let go of `folder` (a sweep job that has ended)."""
    fd = _locks.pop(Path(folder).absolute(), None)
    if fd is not None:
        os.close(fd)


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
