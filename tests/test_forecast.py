"""Rollouts, baselines and the functions a forecast can be asked to learn."""

from __future__ import annotations

import pytest
import torch

from lstm_lab.baselines import LinearAR, Persistence, fit_baselines
from lstm_lab.config import build
from lstm_lab.data.function import make_windows
from lstm_lab.data.functions import FUNCTIONS, make_series
from lstm_lab.errors import ConfigError
from lstm_lab.forecast import forecast_test_part
from lstm_lab.models.rollout import rollout
from lstm_lab.train import train


def test_rollout_feeds_each_prediction_back_as_the_newest_input():
    seen = []

    def predict(windows):
        seen.append(windows[0, :, 0].tolist())
        return windows[:, -1, 0] + 1  # next = last + 1

    out = rollout(predict, torch.tensor([[[0.0], [1.0], [2.0]]]), steps=3)
    assert out.tolist() == [[3.0, 4.0, 5.0]]
    assert seen == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]


def test_linear_baseline_rollout_reproduces_the_true_test_curve():
    # x*sin(x) obeys an exact linear recurrence, so a least-squares AR model fitted on the
    # training windows must roll the whole test horizon out from one window: this proves
    # the rollout machinery, not the model.
    dm = build("data/function")
    linear = fit_baselines(*dm.training_windows())[1]
    x, y = make_windows(dm.series, dm.lookback)
    rolled = rollout(linear, x[dm.split : dm.split + 1], steps=79)[0]
    assert len(y[dm.split :]) == 79
    assert (rolled - y[dm.split :]).square().mean().item() < 1e-6


def test_persistence_one_step_mse_is_the_issue_figure():
    forecasts = forecast_test_part(
        build("model/regressor", hidden_size=4, num_layers=1), build("data/function")
    )
    metrics = forecasts.metrics()
    assert metrics["test/persistence/mse"] == pytest.approx(1.456, abs=1e-3)
    assert metrics["test/linear_ar/mse"] < 1e-12
    assert metrics["test/linear_ar/rollout_mse"] < 1e-6
    # Persistence rolled out is a flat line at the last value it saw.
    flat = forecasts.rollout["persistence"]
    assert torch.all(flat == flat[0])
    assert set(metrics) == {
        f"test/{prefix}{name}"
        for prefix in ("", "persistence/", "linear_ar/")
        for name in ("mse", "rollout_mse")
    }


def test_linear_ar_fit_is_least_squares_with_a_bias():
    windows = torch.rand(50, 3, 1, dtype=torch.float64)
    targets = windows[:, :, 0] @ torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64) + 0.25
    fit = LinearAR.fit(windows, targets)
    torch.testing.assert_close(fit.weight, torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    assert fit.bias.item() == pytest.approx(0.25)
    assert Persistence()(windows).tolist() == windows[:, -1, 0].tolist()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_fills_the_seed_grid(name):
    dm = build("data/function", fn=name)
    assert len(dm.xs) == 400 and len(dm.test[0]) == 79
    assert torch.isfinite(dm.series).all() and dm.series.std() > 0.1
    assert dm.formula == FUNCTIONS[name].formula


def test_unknown_function_stops_with_one_sentence_listing_the_choices():
    with pytest.raises(ConfigError, match="data.fn='cosine' is not one of x_sin_x, sin,"):
        build("data/function", fn="cosine")


def test_observation_noise_is_fixed_by_its_seed_and_off_by_default():
    clean = make_series("x_sin_x")[1]
    noisy = make_series("x_sin_x", noise_std=0.5, noise_seed=3)[1]
    assert torch.equal(make_series("x_sin_x", noise_std=0.5, noise_seed=3)[1], noisy)
    assert (noisy - clean).std().item() == pytest.approx(0.5, rel=0.15)
    assert torch.equal(build("data/function").series, clean)
    with pytest.raises(ConfigError, match="noise_std=-1"):
        make_series("sin", noise_std=-1)


def test_horizon_targets_are_the_next_values_inside_each_part():
    one, four = build("data/function"), build("data/function", horizon=4)
    assert four.train[1].shape == (len(one.train[0]) - 3, 4)
    # Row i holds the one-step targets of windows i, i+1, i+2, i+3.
    torch.testing.assert_close(four.train[1], one.train[1].unfold(0, 4, 1))
    torch.testing.assert_close(four.val[1], one.val[1].unfold(0, 4, 1))
    torch.testing.assert_close(four.test[1], one.test[1])  # the test part stays one-step
    with pytest.raises(ConfigError, match="data.horizon=99"):
        build("data/function", horizon=99)


def test_fitted_highway_starts_as_the_linear_ar_baseline():
    dm = build("data/function")
    model = build("model/forecaster", hidden_size=4, num_layers=2, highway="fitted")
    model.set_scaling(*dm.scaling)
    model.fit_highway(*dm.training_windows(), dm.scaling)
    linear = fit_baselines(*dm.training_windows())[1]
    x, _ = dm.test
    with torch.no_grad():
        torch.testing.assert_close(model(x), linear(x).float(), atol=1e-4, rtol=1e-5)
    assert not any(p.requires_grad for p in model.highway.parameters())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"highway": "lstnet"}, "model.highway='lstnet'"),
        ({"highway": "learned", "highway_window": 0}, "highway_window=0"),
    ],
)
def test_forecaster_options_name_the_bad_value(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build("model/forecaster", **kwargs)


def test_unknown_function_stops_a_training_before_any_work(make_cfg, tmp_path):
    with pytest.raises(ConfigError, match="data.fn='cosine' is not one of .*, chirp, sawtooth"):
        train(make_cfg("experiment=stacked_lstm", "data.fn=cosine"))
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_one_step_regressor_refuses_multi_step_targets(make_cfg):
    cfg = make_cfg("experiment=stacked_lstm", "data.horizon=5", "debug=fast", "trainer=cpu")
    with pytest.raises(ConfigError, match="data.horizon=5 .* use model=forecaster"):
        train(cfg)


def test_forecast_training_logs_rollout_and_baselines(make_cfg, tmp_path):
    cfg = make_cfg("experiment=stacked_lstm_forecast", "debug=fast", "trainer=cpu", "logger=csv")
    metrics = train(cfg)
    assert metrics["test/linear_ar/rollout_mse"] < 1e-6
    logged = (tmp_path / "run" / "csv" / "metrics.csv").read_text()
    assert "test/rollout_mse" in logged.splitlines()[0]
