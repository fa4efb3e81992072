"""What the LSTM modules share: the optimizer, the schedule and the train/val/test steps."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lstm_lab.errors import TrainingDiverged
from lstm_lab.models.optim import (
    build_optimizer,
    build_scheduler,
    check_optimizer,
    check_scheduler,
)

DEFAULT_OPTIMIZER = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "fused": False}
DEFAULT_SCHEDULER = {"name": "none"}


class LSTMModule(pl.LightningModule):
    """Base class: subclasses define `forward` and `_shared_step(batch) -> (loss, metrics)`."""

    def __init__(self, optimizer: dict[str, Any] | None, scheduler: dict[str, Any] | None) -> None:
        super().__init__()
        self.optimizer_cfg = {**DEFAULT_OPTIMIZER, **(optimizer or {})}
        self.scheduler_cfg = {**DEFAULT_SCHEDULER, **(scheduler or {})}
        check_optimizer(**self.optimizer_cfg)
        check_scheduler(**self.scheduler_cfg)

    def _shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        loss, _ = self._shared_step(batch)
        # Stop before the optimizer turns the weights into NaN and a checkpoint saves them.
        if not torch.isfinite(loss):
            raise TrainingDiverged(self.global_step, loss.item())
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def _evaluation_step(self, batch: tuple[Tensor, ...], stage: str) -> None:
        loss, metrics = self._shared_step(batch)
        values = {f"{stage}/loss": loss, **{f"{stage}/{k}": v for k, v in metrics.items()}}
        self.log_dict(values, batch_size=len(batch[0]), prog_bar=stage == "val", sync_dist=True)

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        self._evaluation_step(batch, "val")

    def test_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        self._evaluation_step(batch, "test")

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.parameters(), **self.optimizer_cfg)
        # max_steps, not estimated_stepping_batches: the latter loads the train stream before a
        # checkpoint's stream position is restored, which would break exact resumption.
        scheduler = build_scheduler(
            optimizer, total_steps=self.trainer.max_steps, **self.scheduler_cfg
        )
        if scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
