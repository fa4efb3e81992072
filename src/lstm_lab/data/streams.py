"""Training batch streams: in-memory iterables that Lightning consumes as one long epoch.

Tiny LSTMs spend more time in framework overhead than in arithmetic, so training runs as a
single epoch of `num_steps` batches instead of many short epochs, and batches are built by
tensor indexing or generation instead of a DataLoader collating single samples. Both streams
are a pure function of (seed, step), so their position is all the state a resume needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor


def stream_seed(seed: int, index: int) -> int:
    """The generator seed for pass or step `index`; fits 63 bits even for a 64-bit run seed."""
    return (seed * 1_000_003 + index) % (2**63)


class ShuffledBatches:
    """Minibatches over fixed tensors; every pass over the data is a fresh permutation.

    Under DDP every rank draws the same permutation and takes its own share of it
    (`rank::world_size`), as DistributedSampler does, so the ranks never see the same window
    in the same pass.
    """

    @classmethod
    def for_trainer(
        cls, tensors: tuple[Tensor, ...], batch_size: int, trainer: Any
    ) -> ShuffledBatches:
        """The training stream a datamodule hands `trainer` (None: one pass on the CPU)."""
        device = trainer.strategy.root_device if trainer else torch.device("cpu")
        return cls(
            tuple(t.to(device) for t in tensors),
            batch_size,
            num_steps=trainer.max_steps if trainer else len(tensors[0]),
            seed=torch.initial_seed(),
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
        )

    def __init__(
        self,
        tensors: tuple[Tensor, ...],
        batch_size: int,
        num_steps: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.tensors = tensors
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.step = 0
        share = len(range(rank, len(tensors[0]), world_size))
        # The last batch of a pass may be smaller, as in Keras' fit().
        self.batches_per_pass = -(-share // batch_size)

    def __len__(self) -> int:
        return self.num_steps

    def _permutation(self, pass_index: int) -> Tensor:
        generator = torch.Generator().manual_seed(stream_seed(self.seed, pass_index))
        perm = torch.randperm(len(self.tensors[0]), generator=generator)
        return perm[self.rank :: self.world_size].to(self.tensors[0].device)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        # Continue from a restored position; a finished stream starts over.
        start = self.step if self.step < self.num_steps else 0
        pass_index, offset = divmod(start, self.batches_per_pass)
        perm = self._permutation(pass_index)
        for step in range(start, self.num_steps):
            if offset == self.batches_per_pass:
                pass_index, offset = pass_index + 1, 0
                perm = self._permutation(pass_index)
            idx = perm[offset * self.batch_size : (offset + 1) * self.batch_size]
            offset += 1
            self.step = step + 1
            yield tuple(t[idx] for t in self.tensors)

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.step = int(state["step"])


class GeneratedBatches:
    """Freshly generated batches, one `make_batch(generator)` call per step, never repeated."""

    def __init__(
        self,
        make_batch: Callable[[torch.Generator], tuple[Tensor, ...]],
        num_steps: int,
        seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        self.make_batch = make_batch
        self.num_steps = num_steps
        self.seed = seed
        self.device = torch.device(device)
        self.step = 0

    def __len__(self) -> int:
        return self.num_steps

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        # Continue from a restored position; a finished stream starts over.
        start = self.step if self.step < self.num_steps else 0
        generator = torch.Generator(device=self.device)
        for step in range(start, self.num_steps):
            generator.manual_seed(stream_seed(self.seed, step))
            self.step = step + 1
            yield self.make_batch(generator)

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.step = int(state["step"])


class FixedBatches:
    """The same in-memory batches on every pass (validation and test sets).

    A plain list would read to Lightning as several dataloaders, hence this small wrapper.
    """

    def __init__(self, tensors: tuple[Tensor, ...], batch_size: int | None = None) -> None:
        n = len(tensors[0])
        size = batch_size or max(n, 1)
        self.batches = [tuple(t[i : i + size] for t in tensors) for i in range(0, n, size)]

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        return iter(self.batches)
