"""Seed examples 2 and 3: label each step by whether the running sum is past a limit."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import Tensor

from lstm_lab.data.streams import FixedBatches, GeneratedBatches
from lstm_lab.validation import check_float, check_int


def make_sequences(
    n: int,
    n_timesteps: int,
    threshold_fraction: float,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor]:
    """`n` sequences of uniform values, shaped (n, T, 1), and their per-step labels (n, T)."""
    x = torch.rand(n, n_timesteps, 1, generator=generator, device=device)
    limit = threshold_fraction * n_timesteps
    y = (x.squeeze(-1).cumsum(dim=1) > limit).float()
    return x, y


class CumsumDataModule(pl.LightningDataModule):
    """Fresh random training sequences every batch; fixed, seeded validation and test sets."""

    # What it holds; train.py refuses a model whose task is not the data's.
    task = "sequence labels"

    def __init__(
        self,
        *,
        n_timesteps: int,
        threshold_fraction: float,
        batch_size: int,
        n_val: int,
        n_test: int,
        data_seed: int,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_int("data.n_timesteps", n_timesteps)
        # The running sum of n uniform values lies in (0, n): a limit outside that range
        # would give every step the same label.
        check_float(
            "data.threshold_fraction", threshold_fraction, 0, 1, low_open=True, high_open=True
        )
        check_int("data.batch_size", batch_size)
        check_int("data.n_val", n_val)
        check_int("data.n_test", n_test)
        check_int("data.data_seed", data_seed, minimum=0)
        self.n_timesteps = n_timesteps
        self.threshold_fraction = threshold_fraction
        self.batch_size = batch_size
        # Validation and test sets depend on data_seed only, not on the run's seed, so runs
        # with different seeds are scored on the same sequences.
        generator = torch.Generator().manual_seed(data_seed)
        self.val = make_sequences(n_val, n_timesteps, threshold_fraction, generator)
        self.test = make_sequences(n_test, n_timesteps, threshold_fraction, generator)

    def _make_batch(self, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return make_sequences(
            self.batch_size,
            self.n_timesteps,
            self.threshold_fraction,
            generator,
            device=generator.device,
        )

    def train_dataloader(self) -> GeneratedBatches:
        device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
        # Each DDP rank draws its own sequences.
        seed = torch.initial_seed() + (self.trainer.global_rank if self.trainer else 0)
        num_steps = self.trainer.max_steps if self.trainer else 1000
        return GeneratedBatches(self._make_batch, num_steps, seed, device)

    def val_dataloader(self) -> FixedBatches:
        return FixedBatches(self.val)

    def test_dataloader(self) -> FixedBatches:
        return FixedBatches(self.test)
