"""LSTMSequenceClassifier: a binary label for every time step (Keras' TimeDistributed Dense)."""

from __future__ import annotations

from torch import Tensor
from torch.nn.functional import binary_cross_entropy_with_logits

from lstm_lab.models.base import LSTMModule


class LSTMSequenceClassifier(LSTMModule):
    """(Bi)LSTM with a shared per-step linear head; BCE; per-step and whole-sequence accuracy."""

    output_name = "logits"
    # What it predicts; train.py refuses a model whose task is not the data's.
    task = "sequence labels"

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, input_size) sequences -> (B, T) logits, one per step."""
        features = self.encoder(x, return_sequences=True)  # (B, T, out_features)
        return self.head(features).squeeze(-1)  # (B, T)

    def shared_step(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        """Loss and metrics of one batch; training, validation, test and eval.py share it."""
        x, y = batch  # (B, T, 1), (B, T)
        logits = self(x)
        loss = binary_cross_entropy_with_logits(logits, y)
        correct = (logits > 0) == y.bool()  # (B, T)
        return loss, {
            "acc": correct.float().mean(),
            "seq_acc": correct.all(dim=1).float().mean(),
        }
