"""What the LSTM modules share: the optimizer, the schedule and the train/val/test steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from lstm_lab.errors import TrainingDiverged
from lstm_lab.models.encoder import LSTMEncoder, init_dense
from lstm_lab.models.lightning_steps import count_extra_steps
from lstm_lab.models.optim import (
    build_optimizer,
    build_scheduler,
    check_optimizer,
    check_scheduler,
)
from lstm_lab.validation import check_int


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
        steps_per_execution: int,
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
        self.steps_per_execution = check_int("model.steps_per_execution", steps_per_execution)
        # training_step takes several optimizer steps per Lightning batch.
        self.automatic_optimization = False
        # (trainer.gradient_clip_val, trainer.gradient_clip_algorithm): train.py hands them over,
        # as Lightning clips only under automatic optimization.
        self.gradient_clip: tuple[float | None, str | None] = (None, None)
        self._boundaries: list[int] = []
        # Plain values only (subclasses' own arguments included), so checkpoints load
        # with weights_only=True.
        self.save_hyperparameters()
        self._loss_sum: Tensor | None = None
        self._loss_steps = 0

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def on_train_start(self) -> None:
        trainer = self.trainer
        # A group of steps ends at every step where Lightning validates, logs or checkpoints,
        # since it looks only between its batches; then any steps_per_execution works.
        every = [trainer.val_check_batch, trainer.log_every_n_steps]
        # ModelCheckpoint keeps its every_n_train_steps argument only in a private attribute.
        every += [getattr(c, "_every_n_train_steps", 0) for c in trainer.checkpoint_callbacks]
        self._boundaries = [n for n in every if isinstance(n, int) and n > 0]

    def training_step(self, dataloader_iter: Iterator[Any]) -> None:
        """Up to `steps_per_execution` optimizer steps, one per batch of the training stream.

        Lightning's per-batch loop (hooks, progress, logging) then runs once per group
        instead of once per step; the steps, batches and numbers are those of one step per
        batch.
        """
        trainer, first = self.trainer, self.global_step
        stops = [n - first % n for n in self._boundaries]
        if trainer.max_steps >= 0:  # -1: no limit
            stops.append(trainer.max_steps - first)
        size = min([self.steps_per_execution, *stops])
        optimizer, scheduler = self.optimizers(), self.lr_schedulers()
        clip_val, clip_algorithm = self.gradient_clip
        losses = []
        for _ in range(size):
            batch, _, _ = next(dataloader_iter)
            loss, _ = self.shared_step(batch)
            optimizer.zero_grad()
            self.manual_backward(loss)  # under DDP, every step's gradients are all-reduced
            if clip_val:
                self.clip_gradients(optimizer, clip_val, clip_algorithm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(loss.detach())
        self._check_finite(losses, first)
        for loss in losses:
            self._loss_sum = loss if self._loss_sum is None else self._loss_sum + loss
        self._loss_steps += size
        every = trainer.log_every_n_steps
        if every and self.global_step % every == 0:
            mean = self._loss_sum / self._loss_steps
            self.log("train/loss", mean, on_step=True, on_epoch=False, prog_bar=True, batch_size=1)
            self.log("train/lr", lr, on_step=True, on_epoch=False, batch_size=1)
            self._loss_sum, self._loss_steps = None, 0
        count_extra_steps(trainer, dataloader_iter, size - 1)

    def _check_finite(self, losses: list[Tensor], first: int) -> None:
        """Raise TrainingDiverged naming the first step whose loss is NaN or infinite.

        One device sync per group, not per step; no checkpoint is written inside a group, so
        the weights a non-finite loss spoils never reach one.
        """
        finite = torch.isfinite(torch.stack(losses))  # (size,)
        if not finite.all():
            bad = int((~finite).nonzero()[0])
            raise TrainingDiverged(first + bad, losses[bad].item())

    def _evaluation_step(self, batch: tuple[Tensor, ...], stage: str) -> None:
        loss, metrics = self.shared_step(batch)
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
