"""Forecasting a real series: no look at the test part, backtests, the forecast past it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from test_series_data import write_csv

from lstm_lab.config import build
from lstm_lab.data.series import SeriesDataModule
from lstm_lab.predict import forecast_frame
from lstm_lab.tasks.backtest import origins_of, refit_schedule
from lstm_lab.train import train

CSV_RUN = ["experiment=forecast_csv", "data.time=date", "data.target=sales", "data.horizon=7"]
TINY = ["debug=fast", "plot=false", "logger=csv", "callbacks.progress_bar.refresh_rate=0"]


def best_weights(run_dir) -> dict[str, torch.Tensor]:
    path = run_dir / "checkpoints" / "best.ckpt"
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_changing_the_test_part_leaves_training_bitwise_unchanged(tmp_path, make_cfg):
    original = write_csv(tmp_path)
    frame = pd.read_csv(original)
    frame.loc[frame.index[-7:], "sales"] *= 10  # the last 7 points: the test part
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)

    runs = {}
    for name, path in (("original", original), ("changed", changed)):
        out = tmp_path / f"run_{name}"
        runs[name] = (train(make_cfg(*CSV_RUN, *TINY, f"data.path={path}", output_dir=out)), out)
    (first, first_dir), (second, second_dir) = runs["original"], runs["changed"]
    assert first["val/best"] == second["val/best"]
    a, b = best_weights(first_dir), best_weights(second_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # The baselines were fitted on the same training part too; only the test scores move.
    assert first["test/seasonal_naive/mase"] != second["test/seasonal_naive/mase"]
    for key in ("test/mape", "test/smape", "test/mase", "test/mae", "test/rmse"):
        assert key in first and f"test/auto_arima/{key[5:]}" in first
    recorded = json.loads((first_dir / "metrics.json").read_text())
    assert recorded["test/auto_theta/mape"] == first["test/auto_theta/mape"]


def test_predict_forecasts_the_timestamps_after_the_last_row(tmp_path):
    path = write_csv(tmp_path, rows=60)
    settings = dict(dataset=None, time="date", target="sales", covariates=[], freq=None)
    data = SeriesDataModule(
        path=str(path),
        **settings,
        season=None,
        horizon=5,
        lookback=14,
        val_size=None,
        train_end=None,
        test_start=None,
        keep="all",
        batch_size=8,
        fit_on_val=False,
    )
    model = build("model/direct", **data.model_arguments)
    frame = forecast_frame(model, data, "date", "sales")
    expected = pd.date_range("2024-03-01", periods=5, freq="D")  # 60 days from 2024-01-01
    assert frame["date"].tolist() == expected.tolist()
    assert frame["sales"].notna().all() and len(frame) == 5


def test_backtest_windows_follow_neuralforecast_cross_validation():
    # 3 windows of 12 points, 2 apart: the last one ends at the last point (143).
    assert origins_of(144, 143, 12, windows=3, step=2).tolist() == [127, 129, 131]
    assert refit_schedule(5, False) == [0, 0, 0, 0, 0]
    assert refit_schedule(5, True) == [0, 1, 2, 3, 4]
    assert refit_schedule(5, 2) == [0, 0, 2, 2, 4]


def test_the_direct_forecaster_starts_as_seasonal_naive_on_log_values():
    model = build("model/direct", horizon=14, season=7, input_size=1)
    week = torch.tensor([10.0, 20, 30, 40, 50, 60, 70])
    x = week.repeat(3).view(1, 21, 1)  # (1, L, 1)
    with torch.no_grad():
        forecast = model(x)[0]  # (14,)
    # The head starts at zero: the forecast repeats the last season, whatever the scaling.
    assert np.allclose(forecast.numpy(), week.repeat(2).numpy(), rtol=1e-5)


def test_a_bad_backtest_setting_is_one_sentence_before_training():
    from omegaconf import OmegaConf

    from lstm_lab.errors import ConfigError
    from lstm_lab.validation import check_backtest

    settings = {"windows": 3, "step": 1, "refit": 2, "part": "all"}
    assert check_backtest(OmegaConf.create(settings)) == (3, 1, 2, "all")
    for key, value in (("windows", -1), ("step", 0), ("refit", "often"), ("part", "test")):
        with pytest.raises(ConfigError, match=f"backtest.{key}="):
            check_backtest(OmegaConf.create({**settings, key: value}))


def test_a_backtest_writes_metrics_per_horizon_errors_and_forecasts_per_origin(tmp_path, make_cfg):
    path = write_csv(tmp_path)
    backtest = ["backtest.windows=3", "backtest.step=2", "backtest.refit=2"]
    cfg = make_cfg(*CSV_RUN, *TINY, f"data.path={path}", *backtest, output_dir=tmp_path / "run")
    metrics = train(cfg)
    for name in ("", "/seasonal_naive", "/auto_ets", "/auto_arima", "/auto_theta"):
        # A noiseless weekly sine on a trend: an ARIMA can forecast it exactly.
        assert metrics[f"backtest{name}/mase"] >= 0
    assert metrics["backtest/seasonal_naive/mape"] > 0
    folder = tmp_path / "run" / "backtest"
    errors = pd.read_csv(folder / "errors_by_horizon.csv")
    assert len(errors) == 5 * 7 and set(errors["n"]) == {3}
    forecasts = pd.read_csv(folder / "forecasts.csv")
    # 3 origins x 7 steps x 5 models; the last window ends at the last row (2024-04-29).
    assert len(forecasts) == 3 * 7 * 5
    assert forecasts["time"].max() == "2024-04-29" and forecasts["actual"].notna().all()
    assert (folder / "backtest.png").stat().st_size > 0
