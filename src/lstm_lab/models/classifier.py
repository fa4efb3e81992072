"""LSTMSequenceClassifier: a binary label for every time step (Keras' TimeDistributed Dense)."""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.nn.functional import binary_cross_entropy_with_logits

from lstm_lab.models.base import LSTMModule


class LSTMSequenceClassifier(LSTMModule):
    """(Bi)LSTM with a shared per-step linear head; BCE; per-step and whole-sequence accuracy."""

    def __init__(
        self,
        hidden_size: int = 20,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        init: str = "torch",
        input_size: int = 1,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        go_backwards: bool = False,
    ) -> None:
        encoder = {
            "input_size": input_size,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "dropout": dropout,
            "bidirectional": bidirectional,
            "merge_mode": merge_mode,
            "init": init,
            "go_backwards": go_backwards,
        }
        super().__init__(encoder, optimizer, scheduler)
        self.save_hyperparameters()

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, input_size) sequences -> (B, T) logits, one per step."""
        return self.head(self.encoder(x, return_sequences=True)).squeeze(-1)

    def _shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        x, y = batch
        logits = self(x)
        loss = binary_cross_entropy_with_logits(logits, y)
        correct = (logits > 0) == y.bool()
        return loss, {
            "acc": correct.float().mean(),
            "seq_acc": correct.all(dim=1).float().mean(),
        }
