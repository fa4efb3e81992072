"""What the LSTM modules share: the optimizer, the schedule and the train/val/test steps."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from lstm_lab.errors import TrainingDiverged
from lstm_lab.models.encoder import LSTMEncoder, init_dense
from lstm_lab.models.optim import (
    build_optimizer,
    build_scheduler,
    check_optimizer,
    check_scheduler,
)


class LSTMModule(pl.LightningModule):
    """Base class: an LSTMEncoder and a linear head; subclasses define `forward` and
    `shared_step(batch) -> (loss, metrics)`.

    The arguments are keyword-only and have no defaults here: configs/model/_base.yaml holds
    them (one place), and `lstm_lab.config.build("model/classifier", ...)` builds from it.
    """

    # The name export.py gives the model's output.
    output_name = "output"

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        bidirectional: bool,
        merge_mode: str,
        init: str,
        go_backwards: bool,
        optimizer: dict[str, Any],
        scheduler: dict[str, Any],
    ) -> None:
        super().__init__()
        self.encoder = LSTMEncoder(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            merge_mode=merge_mode,
            init=init,
            go_backwards=go_backwards,
        )
        self.head = nn.Linear(self.encoder.out_features, 1)
        init_dense(self.head, self.encoder.init)
        self.optimizer_cfg = dict(optimizer)
        self.scheduler_cfg = dict(scheduler)
        check_optimizer(**self.optimizer_cfg)
        check_scheduler(**self.scheduler_cfg)
        # Plain values only (subclasses' own arguments included), so checkpoints load
        # with weights_only=True.
        self.save_hyperparameters()
        self._loss_sum: Tensor | None = None
        self._loss_steps = 0

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets `_current_fx_name` around every hook call, about 45 times a step, and
        # nn.Module.__setattr__ looks through parameters, buffers and submodules each time:
        # about 5% of a step of these tiny models. A string needs none of that.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        loss, _ = self.shared_step(batch)
        # Stop before the optimizer turns the weights into NaN and a checkpoint saves them.
        if not torch.isfinite(loss):
            raise TrainingDiverged(self.global_step, loss.item())
        self._log_train_loss(loss.detach())
        return loss

    def _log_train_loss(self, loss: Tensor) -> None:
        # A self.log call costs about an eighth of a whole step of these tiny models, and the
        # logger only writes every log_every_n_steps anyway: sum the losses on the device (no
        # sync) and log their mean at the steps the logger writes. The learning rate goes
        # along: a LearningRateMonitor callback would cost about 3% of every step in hook calls.
        self._loss_sum = loss if self._loss_sum is None else self._loss_sum + loss
        self._loss_steps += 1
        every = self.trainer.log_every_n_steps
        if every and (self.trainer.global_step + 1) % every == 0:
            mean = self._loss_sum / self._loss_steps
            self.log("train/loss", mean, on_step=True, on_epoch=False, prog_bar=True, batch_size=1)
            lr = self.trainer.optimizers[0].param_groups[0]["lr"]
            self.log("train/lr", lr, on_step=True, on_epoch=False, batch_size=1)
            self._loss_sum, self._loss_steps = None, 0

    def _evaluation_step(self, batch: tuple[Tensor, ...], stage: str) -> None:
        loss, metrics = self.shared_step(batch)
        values = {f"{stage}/loss": loss, **{f"{stage}/{k}": v for k, v in metrics.items()}}
        self.log_dict(values, batch_size=len(batch[0]), prog_bar=stage == "val", sync_dist=True)

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        self._evaluation_step(batch, "val")

    def test_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        self._evaluation_step(batch, "test")

    def configure_gradient_clipping(
        self,
        optimizer: Any,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        # Lightning calls this every step; with clipping off (trainer.gradient_clip_val unset,
        # the default) its argument checks are all it would do.
        if gradient_clip_val:
            self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

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
