"""Model shapes for every direction and merge mode, and checkpoints that load back."""

from __future__ import annotations

import pytest
import torch

from lstm_lab.config import build
from lstm_lab.errors import ConfigError
from lstm_lab.models.encoder import MERGE_MODES, LSTMEncoder

DIRECTIONS = [(False, "concat")] + [(True, mode) for mode in MERGE_MODES]


@pytest.mark.parametrize("bidirectional,merge_mode", DIRECTIONS)
def test_classifier_gives_one_logit_per_step(bidirectional, merge_mode):
    model = build(
        "model/classifier", hidden_size=6, bidirectional=bidirectional, merge_mode=merge_mode
    )
    assert model(torch.rand(4, 10, 1)).shape == (4, 10)
    expected = 12 if bidirectional and merge_mode == "concat" else 6
    assert model.encoder.out_features == expected


@pytest.mark.parametrize("bidirectional,merge_mode", DIRECTIONS)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_regressor_gives_one_value_per_window(bidirectional, merge_mode, num_layers):
    model = build(
        "model/regressor",
        hidden_size=5,
        num_layers=num_layers,
        bidirectional=bidirectional,
        merge_mode=merge_mode,
    )
    assert model(torch.rand(7, 5, 1)).shape == (7,)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_merge_modes_combine_the_two_directions_like_keras(merge_mode):
    torch.manual_seed(0)
    encoder = LSTMEncoder(hidden_size=3, bidirectional=True, merge_mode=merge_mode)
    x = torch.rand(2, 4, 1)
    raw, _ = encoder.lstm(x)
    forward, backward = raw[..., :3], raw[..., 3:]
    expected = {
        "concat": raw,
        "sum": forward + backward,
        "mul": forward * backward,
        "ave": (forward + backward) / 2,
    }[merge_mode]
    torch.testing.assert_close(encoder(x), expected)


def test_bidirectional_last_step_sees_the_whole_sequence_in_both_directions():
    torch.manual_seed(0)
    encoder = LSTMEncoder(hidden_size=3, bidirectional=True, merge_mode="concat")
    x = torch.rand(2, 4, 1)
    sequences = encoder(x)
    last = encoder(x, return_sequences=False)
    # Forward half: state after the last step; backward half: state after reading back to step 1.
    torch.testing.assert_close(last[:, :3], sequences[:, -1, :3])
    torch.testing.assert_close(last[:, 3:], sequences[:, 0, 3:])


def test_keras_init_sets_a_forget_gate_bias_of_one():
    encoder = LSTMEncoder(hidden_size=4, init="keras")
    bias = encoder.lstm.bias_ih_l0.detach()
    assert bias[4:8].eq(1).all() and bias[:4].eq(0).all() and bias[8:].eq(0).all()


def test_regressor_works_in_original_units():
    model = build("model/regressor", hidden_size=4, num_layers=1)
    x = torch.rand(3, 5, 1) * 10
    before = model(x)
    model.set_scaling(loc=2.0, scale=4.0)
    # Same weights, new scaling: the output is the same network evaluated on (x-2)/4, then * 4 + 2.
    reference = build("model/regressor", hidden_size=4, num_layers=1)
    reference.load_state_dict(
        {**model.state_dict(), "loc": torch.tensor(0.0), "scale": torch.tensor(1.0)}
    )
    torch.testing.assert_close(model(x), reference((x - 2.0) / 4.0) * 4.0 + 2.0)
    assert not torch.allclose(before, model(x))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"merge_mode": "max", "bidirectional": True}, "merge_mode='max'"),
        ({"init": "he"}, "init='he'"),
    ],
)
def test_unknown_choices_name_the_value(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build("model/classifier", **kwargs)


def test_backward_lstm_step_t_sees_only_steps_t_to_the_end():
    torch.manual_seed(0)
    encoder = LSTMEncoder(hidden_size=3, go_backwards=True)
    x = torch.rand(2, 5, 1)
    changed = x.clone()
    changed[:, 0] += 1.0  # only the first step differs
    out, out_changed = encoder(x), encoder(changed)
    # Outputs stay aligned with input steps: steps 1..4 never read step 0 ...
    torch.testing.assert_close(out[:, 1:], out_changed[:, 1:])
    assert not torch.allclose(out[:, 0], out_changed[:, 0])
    # ... and equal a forward LSTM over the reversed sequence, flipped back (Keras leaves
    # them reversed).
    forward, _ = encoder.lstm(x.flip(1))
    torch.testing.assert_close(out, forward.flip(1))
    torch.testing.assert_close(encoder(x, return_sequences=False), out[:, 0])


def test_backward_and_bidirectional_together_is_refused():
    with pytest.raises(ConfigError, match="go_backwards=false"):
        LSTMEncoder(hidden_size=3, bidirectional=True, go_backwards=True)


def test_backward_models_give_the_same_shapes():
    classifier = build("model/classifier", hidden_size=4, go_backwards=True)
    assert classifier(torch.rand(3, 10, 1)).shape == (3, 10)
    assert build("model/regressor", hidden_size=4, go_backwards=True)(
        torch.rand(3, 5, 1)
    ).shape == (3,)
