"""Optimizer and learning-rate schedule built from plain config values."""

from __future__ import annotations

from typing import Any

import torch

from lstm_lab.validation import check_choice, check_float

OPTIMIZERS = ("adam", "adamw")
SCHEDULERS = ("none", "onecycle", "cosine")


def check_optimizer(
    name: str, lr: float, weight_decay: float = 0.0, fused: bool = False, eps: float = 1e-8
) -> None:
    """Raise ConfigError for an optimizer config that build_optimizer would reject."""
    check_choice("model.optimizer.name", name, OPTIMIZERS)
    check_float("model.optimizer.lr", lr, 0, low_open=True)
    check_float("model.optimizer.weight_decay", weight_decay, 0)
    check_float("model.optimizer.eps", eps, 0, low_open=True)
    check_choice("model.optimizer.fused", fused, (True, False))


def check_scheduler(name: str, **kwargs: Any) -> None:
    """Raise ConfigError for a schedule name build_scheduler does not know."""
    check_choice("model.scheduler.name", name, SCHEDULERS)


def build_optimizer(
    params: Any,
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    fused: bool = False,
    eps: float = 1e-8,
) -> torch.optim.Optimizer:
    """Adam or AdamW; `fused` uses the single-kernel implementation where torch has one.

    `eps` defaults to torch's 1e-8; Keras' Adam uses 1e-7.
    """
    check_optimizer(name, lr, weight_decay, fused, eps)
    kwargs: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay, "eps": eps}
    if fused:
        kwargs["fused"] = True
    if name == "adam":
        return torch.optim.Adam(params, **kwargs)
    return torch.optim.AdamW(params, **kwargs)


def build_scheduler(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int, **kwargs: Any
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step schedule over `total_steps`, or None for a constant learning rate."""
    check_scheduler(name)
    if name == "none":
        return None
    if name == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=total_steps, **kwargs
        )
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, **kwargs)
