"""nn.LSTM with Keras-style directions (backward, bidirectional merge modes) and Keras init."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstm_lab.errors import ConfigError
from lstm_lab.validation import check_choice, check_float, check_int

MERGE_MODES = ("concat", "sum", "mul", "ave")
INITS = ("torch", "keras")


def merge_directions(forward: Tensor, backward: Tensor, mode: str) -> Tensor:
    """Combine the two directions' features the way Keras' Bidirectional(merge_mode=...) does."""
    if mode == "concat":
        return torch.cat((forward, backward), dim=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    raise ConfigError(
        f"model.merge_mode={mode!r} is not a choice: use one of {', '.join(MERGE_MODES)}."
    )


class LSTMEncoder(nn.Module):
    """A (stacked, optionally bidirectional) nn.LSTM returning per-step or final features.

    Between stacked layers nn.LSTM concatenates the two directions; `merge_mode` applies to
    the output of the last layer, which is what the heads see.

    `go_backwards=True` reads the sequence from its last step to its first, like Keras'
    `LSTM(go_backwards=True)`, but returns the per-step outputs in input order: output t is
    the state after reading steps T..t, so a per-step head labels step t. Keras returns them
    reversed (its first output belongs to the last input step).
    """

    def __init__(
        self,
        input_size: int = 1,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        init: str = "torch",
        go_backwards: bool = False,
    ) -> None:
        super().__init__()
        check_int("model.input_size", input_size)
        check_int("model.hidden_size", hidden_size)
        check_int("model.num_layers", num_layers)
        check_float("model.dropout", dropout, 0, 1, high_open=True)
        check_choice("model.merge_mode", merge_mode, MERGE_MODES)
        check_choice("model.init", init, INITS)
        if go_backwards and bidirectional:
            raise ConfigError(
                "go_backwards=true with bidirectional=true would read both directions backwards; "
                "set go_backwards=false (a bidirectional LSTM already has a backward direction)."
            )
        self.lstm = nn.LSTM(
            input_size,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
            batch_first=True,
        )
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.go_backwards = go_backwards
        self.merge_mode = merge_mode
        self.init = init
        self.out_features = hidden_size * (2 if bidirectional and merge_mode == "concat" else 1)
        if init == "keras":
            self._keras_init()

    def _keras_init(self) -> None:
        # Keras 3's LSTM defaults, one matrix per kind as Keras holds them, not one per gate:
        # a glorot-uniform (input, 4H) kernel (torch stores it transposed; the limit
        # sqrt(6 / (input + 4H)) is the same), an orthogonal (H, 4H) recurrent kernel, and a
        # single bias of zeros with 1 on the forget gate (unit_forget_bias). nn.LSTM adds two
        # biases, so bias_hh stays zero and frozen and bias_ih plays Keras' bias.
        h = self.hidden_size
        for name, param in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(param)
            elif name.startswith("weight_hh"):
                # (4H, H) with orthonormal columns: the transpose of Keras' orthonormal rows.
                nn.init.orthogonal_(param)
            elif name.startswith("bias_ih"):
                nn.init.zeros_(param)
                param.data[h : 2 * h] = 1.0
            elif name.startswith("bias_hh"):
                nn.init.zeros_(param)
                param.requires_grad_(False)

    def forward(self, x: Tensor, return_sequences: bool = True) -> Tensor:
        """(B, T, input_size) -> (B, T, out_features), or (B, out_features) for the last step."""
        if self.go_backwards:
            output, (h_n, _) = self.lstm(x.flip(1))
            output = output.flip(1)
        else:
            output, (h_n, _) = self.lstm(x)
        h = self.hidden_size
        if return_sequences:
            if not self.bidirectional or self.merge_mode == "concat":
                return output
            return merge_directions(output[..., :h], output[..., h:], self.merge_mode)
        if not self.bidirectional:
            return h_n[-1]
        # Each direction's final state: forward after step T, backward after step 1.
        return merge_directions(h_n[-2], h_n[-1], self.merge_mode)


def init_dense(layer: nn.Linear, init: str) -> None:
    """Give a head layer Keras' Dense defaults (glorot-uniform kernel, zero bias) for init=keras."""
    if init == "keras":
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
