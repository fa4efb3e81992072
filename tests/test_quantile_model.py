"""The direct forecaster's quantile head (model.loss=quantile): shapes, order, bands, its loss."""

from __future__ import annotations

import pytest
import torch

from lstm_lab.config import build
from lstm_lab.errors import ConfigError
from lstm_lab.intervals.pinball import multi_quantile_loss


def quantile_model(**overrides):
    torch.manual_seed(0)
    values = {"horizon": 4, "season": 2, "input_size": 1, "loss": "quantile", **overrides}
    return build("model/direct", **values)


def test_quantile_model_forecasts_sorted_quantiles_per_step():
    model = quantile_model()
    assert model.quantiles == (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
    with torch.no_grad():
        model.head.weight.normal_()  # from zero, every quantile would equal the reference
        out = model(torch.rand(3, 8, 1) + 1.0)
    assert out.shape == (3, 4, 7)
    assert (out.diff(dim=-1) >= 0).all()
    assert model.point_of(out).shape == (3, 4)
    assert torch.equal(model.point_of(out), out[..., 3])


def test_band_index_pairs_each_levels_two_quantiles():
    model = quantile_model()
    assert model.band_index == {95.0: (0, 6), 90.0: (1, 5), 80.0: (2, 4)}
    for level, (lo, hi) in model.band_index.items():
        assert model.quantiles[hi] - model.quantiles[lo] == pytest.approx(level / 100)


def test_quantile_model_trains_on_the_pinball_loss():
    model = quantile_model(transform="none", reference="none")
    x, y = torch.rand(16, 8, 1), torch.rand(16, 4)
    model.set_scaling(x[:, :, 0].reshape(-1, 1).double())
    loss, _ = model.shared_step((x, y))
    target = (y - model.loc[0]) / model.scale[0]
    expected = multi_quantile_loss(model.forward_scaled(model.scaled(x)), target, model.q)
    assert torch.equal(loss, expected)


def test_mse_model_keeps_its_point_head():
    model = build("model/direct", horizon=4, season=2, input_size=1)
    assert model.quantiles == () and model.head.out_features == 4
    assert model(torch.rand(2, 8, 1) + 1.0).shape == (2, 4)


def test_unknown_loss_is_one_sentence():
    with pytest.raises(ConfigError, match="model.loss='pinball'"):
        quantile_model(loss="pinball")
