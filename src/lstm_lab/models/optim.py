"""Optimizer and learning-rate schedule built from plain config values."""

from __future__ import annotations

from typing import Any

import torch

from lstm_lab.errors import ConfigError

OPTIMIZERS = ("adam", "adamw")
SCHEDULERS = ("none", "onecycle", "cosine")


def build_optimizer(
    params: Any, name: str, lr: float, weight_decay: float = 0.0, fused: bool = False
) -> torch.optim.Optimizer:
    """Adam or AdamW; `fused` uses the single-kernel implementation where torch has one."""
    kwargs: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay}
    if fused:
        kwargs["fused"] = True
    if name == "adam":
        return torch.optim.Adam(params, **kwargs)
    if name == "adamw":
        return torch.optim.AdamW(params, **kwargs)
    raise ConfigError(f"optimizer.name={name!r} is not one of {', '.join(OPTIMIZERS)}.")


def build_scheduler(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int, **kwargs: Any
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step schedule over `total_steps`, or None for a constant learning rate."""
    if name == "none":
        return None
    if name == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=total_steps, **kwargs
        )
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, **kwargs)
    raise ConfigError(f"scheduler.name={name!r} is not one of {', '.join(SCHEDULERS)}.")
