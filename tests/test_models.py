"""Model shapes for every direction and merge mode, and checkpoints that load back."""

from __future__ import annotations

import pytest
import torch

from lstm_lab.config import build
from lstm_lab.errors import ConfigError
from lstm_lab.models.encoder import MERGE_MODES, LSTMEncoder
from lstm_lab.models.optim import build_optimizer

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


@pytest.mark.parametrize("bidirectional", [False, True])
def test_keras_init_matches_keras_3_lstm_and_dense_defaults(bidirectional):
    torch.manual_seed(0)
    h, inputs = 16, 8
    model = build(
        "model/regressor",
        hidden_size=h,
        num_layers=2,
        bidirectional=bidirectional,
        input_size=inputs,
        init="keras",
    )
    params = dict(model.encoder.lstm.named_parameters())
    layers = [name.removeprefix("weight_ih") for name in params if name.startswith("weight_ih")]
    assert len(layers) == (4 if bidirectional else 2)
    for suffix in layers:
        # Keras' kernel is one (input, 4H) glorot-uniform matrix: limit sqrt(6 / (input + 4H)),
        # half the limit a glorot draw per (H, input) gate would have here.
        kernel = params["weight_ih" + suffix].detach()
        fan_in = kernel.shape[1]
        limit = (6 / (fan_in + 4 * h)) ** 0.5
        assert kernel.shape == (4 * h, fan_in)
        assert limit * 0.9 < kernel.abs().max() <= limit
        # Keras' recurrent kernel is one orthogonal (H, 4H) matrix: torch holds its transpose,
        # whose H columns are orthonormal (a per-gate draw would give 4 * I here).
        recurrent = params["weight_hh" + suffix].detach()
        torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(h))
        # One bias: zeros with 1 on the forget gate (i, f, g, o order in both libraries); the
        # second one nn.LSTM adds stays zero and is never trained.
        bias = params["bias_ih" + suffix].detach()
        assert bias[h : 2 * h].eq(1).all() and bias[:h].eq(0).all() and bias[2 * h :].eq(0).all()
        second = params["bias_hh" + suffix]
        assert second.eq(0).all() and not second.requires_grad
    # Dense(1): glorot-uniform kernel (wider than torch's 1/sqrt(fan_in)) and a zero bias.
    features = model.head.in_features
    glorot = (6 / (features + 1)) ** 0.5
    assert features**-0.5 < model.head.weight.abs().max() <= glorot
    assert model.head.bias.eq(0).all()


def test_keras_init_leaves_the_second_lstm_bias_at_zero_through_training():
    torch.manual_seed(0)
    model = build("model/regressor", hidden_size=4, num_layers=1, init="keras")
    optimizer = build_optimizer(model.parameters(), name="adam", lr=0.1, eps=1e-7)
    assert optimizer.param_groups[0]["eps"] == 1e-7
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.rand(8, 5, 1)).square().mean().backward()
        optimizer.step()
    assert model.encoder.lstm.bias_hh_l0.eq(0).all()
    assert not model.encoder.lstm.bias_ih_l0[4:8].eq(1).all()


def test_torch_init_is_torchs_own_default():
    torch.manual_seed(0)
    model = build("model/regressor", hidden_size=4, num_layers=2, init="torch")
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(1, 4, num_layers=2, batch_first=True), torch.nn.Linear(4, 1)
    for ours, theirs in zip(model.encoder.lstm.parameters(), lstm.parameters(), strict=True):
        assert torch.equal(ours, theirs) and ours.requires_grad
    assert torch.equal(model.head.weight, head.weight) and torch.equal(model.head.bias, head.bias)
    assert build_optimizer(model.parameters(), name="adam", lr=0.1).param_groups[0]["eps"] == 1e-8


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
