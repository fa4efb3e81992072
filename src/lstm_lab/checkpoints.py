"""Checkpoints read as data: plain tensors and values only, checked before training uses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lstm_lab.errors import ConfigError

FIX = "point it at a run's checkpoints/best.ckpt or checkpoints/last.ckpt"


def check_checkpoint_file(path: str | Path, key: str = "ckpt_path") -> Path:
    """`path` is a file with something in it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{key}={path} does not exist; {FIX}.")
    if path.stat().st_size == 0:
        raise ConfigError(f"{key}={path} is an empty file; {FIX}.")
    return path


def read_checkpoint(path: str | Path, key: str = "ckpt_path") -> dict[str, Any]:
    """A Lightning checkpoint loaded with weights_only=True (it runs no code), or one sentence."""
    path = check_checkpoint_file(path, key)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        raise ConfigError(f"{key}={path} is not a readable checkpoint ({reason}); {FIX}.") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise ConfigError(f"{key}={path} is not a Lightning checkpoint (no state_dict); {FIX}.")
    return checkpoint


def check_fits(model: torch.nn.Module, path: str | Path) -> None:
    """The checkpoint at `path` holds weights of this model's shape (a run of this experiment)."""
    checkpoint = read_checkpoint(path)
    saved = {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items()}
    wanted = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if saved == wanted:
        return
    theirs = checkpoint.get("hyper_parameters") or {}
    ours = dict(getattr(model, "hparams", {}))
    differing = [
        f"model.{k}={theirs[k]!r} there, {ours[k]!r} here"
        for k in sorted(set(theirs) & set(ours))
        if theirs[k] != ours[k] and not isinstance(ours[k], dict)
    ]
    detail = "; ".join(differing[:3]) or f"{len(set(saved) ^ set(wanted))} weights differ"
    raise ConfigError(
        f"ckpt_path={path} was trained with another model ({detail}): resume it with its own "
        "overrides (resume=<its run folder>) or leave ckpt_path out."
    )
