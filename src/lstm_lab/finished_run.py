"""A finished run, found from its checkpoint or folder: its saved config, data and model."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from lstm_lab.checkpoints import FIX, check_checkpoint_file, differing_weights, read_checkpoint
from lstm_lab.config import instantiate
from lstm_lab.errors import ConfigError
from lstm_lab.io import load_yaml, reason, safe_dir
from lstm_lab.tasks import Task
from lstm_lab.validation import WRITABLE_FIX, check_writable_dir

CHECKPOINT_NAMES = ("best.ckpt", "last.ckpt")
# The only classes a run folder may name: a folder is data, so its .hydra/config.yaml is
# checked against these before anything is imported or called.
ALLOWED_TARGETS = {
    "data": ("lstm_lab.data.CumsumDataModule", "lstm_lab.data.FunctionDataModule"),
    "model": (
        "lstm_lab.models.LSTMSequenceClassifier",
        "lstm_lab.models.LSTMRegressor",
        "lstm_lab.models.LSTMForecaster",
    ),
    "task": ("lstm_lab.tasks.NextValueTask", "lstm_lab.tasks.StepLabelsTask"),
}
# Runs from before the task group name no task: it follows from their data.
TASK_OF_DATA = {
    "lstm_lab.data.CumsumDataModule": "lstm_lab.tasks.StepLabelsTask",
    "lstm_lab.data.FunctionDataModule": "lstm_lab.tasks.NextValueTask",
}
# Keys through which Hydra's instantiate would call or import something.
INSTANTIATE_KEYS = ("_target_", "_args_", "_partial_", "_recursive_", "_convert_")


@dataclass
class Run:
    """What eval.py and export.py need from a run folder made by train.py."""

    dir: Path
    ckpt_path: Path
    name: str
    task: Task
    datamodule: pl.LightningDataModule
    model: pl.LightningModule


def locate(ckpt_path: str | None, run_dir: str | None) -> tuple[Path, Path]:
    """(run folder, checkpoint) from either value; the run folder holds `.hydra/config.yaml`."""
    if ckpt_path:
        ckpt = check_checkpoint_file(ckpt_path).resolve()
        if run_dir:
            run = run_folder(run_dir)
        else:
            run = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    elif run_dir:
        run = run_folder(run_dir)
        found = [run / "checkpoints" / name for name in CHECKPOINT_NAMES]
        found = [path for path in found if path.is_file()]
        if not found:
            raise ConfigError(
                f"run_dir={run_dir} holds no checkpoints/best.ckpt or checkpoints/last.ckpt; "
                "point it at a folder that train.py wrote."
            )
        ckpt = found[0]
    else:
        raise ConfigError("Give ckpt_path=<run>/checkpoints/best.ckpt or run_dir=<run>.")
    if not (run / ".hydra" / "config.yaml").is_file():
        raise ConfigError(
            f"{run} has no .hydra/config.yaml to rebuild the data and model from; "
            "pass run_dir=<the run folder train.py wrote>."
        )
    return run, ckpt


def run_folder(run_dir: str) -> Path:
    """`run_dir=` as an absolute path, or one sentence."""
    try:
        return Path(run_dir).expanduser().resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: ~user that does not exist
        raise ConfigError(f"cannot read run_dir={run_dir} ({reason(error)}).") from None


def unsafe_paths(node: object, where: str) -> list[str]:
    """Paths below `node` where instantiate would import or call, or a resolver would run."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in INSTANTIATE_KEYS:
                found.append(f"{where}.{key}")
            found += unsafe_paths(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += unsafe_paths(value, f"{where}[{i}]")
    elif isinstance(node, str) and "${" in node:
        found.append(where)
    return found


def saved_config(run: Path) -> dict:
    """A run's .hydra/config.yaml, refused unless its data and model name only lstm-lab's own
    classes with plain values (read as YAML: nothing is imported or resolved)."""
    path = run / ".hydra" / "config.yaml"
    saved = load_yaml(path)  # bounded: no aliases, at most a megabyte
    nodes = {
        group: (saved or {}).get(group) if isinstance(saved, dict) else None
        for group in ALLOWED_TARGETS
    }
    data_target = nodes["data"].get("_target_") if isinstance(nodes["data"], dict) else None
    if nodes["task"] is None and data_target in TASK_OF_DATA:
        nodes["task"] = saved["task"] = {"_target_": TASK_OF_DATA[data_target]}
    for group, node in nodes.items():
        target = node.get("_target_") if isinstance(node, dict) else None
        if target not in ALLOWED_TARGETS[group]:
            raise ConfigError(
                f"{path} names {group} {target!r}, not one of lstm-lab's own "
                f"({', '.join(ALLOWED_TARGETS[group])}); a run folder is data, so it is refused."
            )
        rest = {key: value for key, value in node.items() if key != "_target_"}
        unsafe = unsafe_paths(rest, group)
        if unsafe:
            raise ConfigError(
                f"{path} sets {unsafe[0]}, which would import, call or resolve something; "
                "a run folder is data, so it is refused."
            )
    return saved


def load_run(ckpt_path: str | None = None, run_dir: str | None = None) -> Run:
    """Rebuild a run's datamodule from its saved config and its model from the checkpoint."""
    run, ckpt = locate(ckpt_path, run_dir)
    saved = saved_config(run)
    checkpoint = read_checkpoint(ckpt)  # as data, bounded, mapped: no tensor is read yet
    task = instantiate(OmegaConf.create(saved["task"]))
    datamodule = instantiate(OmegaConf.create(saved["data"]))
    model_cls = get_class(saved["model"]["_target_"])
    # Runs from before model.steps_per_execution lack it; it matters only in training.
    extra = {} if "steps_per_execution" in saved["model"] else {"steps_per_execution": 1}
    model = model_from(model_cls, checkpoint, ckpt, extra)
    model.eval()
    return Run(run, ckpt, str(saved.get("name", run.name)), task, datamodule, model)


def model_from(
    model_cls: type[pl.LightningModule], checkpoint: dict[str, Any], ckpt: Path, extra: dict
) -> pl.LightningModule:
    """The model a checkpoint holds, built from its hyperparameters and loaded from the read
    checkpoint (what load_from_checkpoint does, without reading the file again).

    The model is first built on the meta device, which allocates nothing: hyperparameters
    asking for a huge model, or weights of other shapes, are refused before any memory is used.
    """
    hparams = {**(checkpoint.get("hyper_parameters") or {}), **extra}
    try:
        with torch.device("meta"):
            wanted = model_cls(**hparams).state_dict()
        differing = differing_weights(wanted, checkpoint["state_dict"])
        if differing:
            raise ValueError(f"{len(differing)} weights differ from its settings: {differing[0]}")
        model = model_cls(**hparams)
        model.on_load_checkpoint(checkpoint)
        model.load_state_dict(checkpoint["state_dict"])
    except Exception as error:
        raise ConfigError(
            f"ckpt_path={ckpt} is not a readable {model_cls.__name__} checkpoint "
            f"({reason(error)}); {FIX}."
        ) from None
    return model


@contextmanager
def output_folder(run: Path, name: str, what: str) -> Iterator[Path]:
    """`<run>/<name>/` for eval.py's or export.py's files: a real folder inside the run (a link
    there is refused, never followed); a failed write ends in one sentence, and a folder this
    call made is removed again."""
    made = not os.path.lexists(run / name)
    try:
        folder = safe_dir(run, name)
    except OSError as error:
        raise ConfigError(
            f"cannot write {what} into {run / name} ({reason(error)}): {WRITABLE_FIX}."
        ) from None
    try:
        check_writable_dir(folder, f"{what} into {folder}", WRITABLE_FIX)
        yield folder
    except BaseException as error:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError):
            raise ConfigError(
                f"cannot write {what} into {folder} ({reason(error)}): {WRITABLE_FIX}."
            ) from None
        raise
