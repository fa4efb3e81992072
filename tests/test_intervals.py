"""Interval scores and split-conformal calibration, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lab.errors import ConfigError
from lstm_lab.intervals import scores
from lstm_lab.intervals.conformal import (
    calibrate,
    calibrate_forecaster,
    calibrate_quantiles,
    conformal_quantile,
    min_windows,
    rolling_origins,
)
from lstm_lab.intervals.levels import check_levels, level_name, quantile_levels
from lstm_lab.intervals.metrics import interval_metrics, quantiles_from_bands
from lstm_lab.intervals.pinball import multi_quantile_loss

# Four points: inside, on both ends of a zero-width band, 0.5 below, 1 below.
Y = [1.0, 2.0, 3.0, 4.0]
LO = [0.0, 2.0, 3.5, 5.0]
HI = [2.0, 2.0, 4.0, 6.0]


def test_coverage_counts_both_ends_as_inside():
    assert scores.coverage(Y, LO, HI) == 0.5


def test_width_is_the_mean_of_upper_minus_lower():
    assert scores.width(LO, HI) == pytest.approx((2 + 0 + 0.5 + 1) / 4)


def test_winkler_adds_two_over_alpha_times_each_miss():
    # 80%: alpha 0.2, 2 / alpha = 10; the misses cost 10 * 0.5 and 10 * 1.
    assert scores.winkler(Y, LO, HI, 80) == pytest.approx((2 + 0 + (0.5 + 5) + (1 + 10)) / 4)
    # Above the band costs the same as below it.
    assert scores.winkler([3.0], [0.0], [1.0], 90) == pytest.approx(1 + 20 * 2)


def test_pinball_weighs_under_and_over_forecasts_by_q_and_one_minus_q():
    # q = 0.9: an under-forecast by 2 costs 0.9 * 2, an over-forecast by 3 costs 0.1 * 3.
    assert scores.pinball([10.0, 10.0], [8.0, 13.0], 0.9) == pytest.approx((1.8 + 0.3) / 2)


def test_crps_of_a_point_forecast_is_its_absolute_error():
    y, point = np.array([10.0, 10.0]), np.array([8.0, 13.0])
    levels = quantile_levels([80])  # 0.1, 0.5, 0.9
    same = np.repeat(point[:, None], len(levels), axis=1)
    assert scores.crps(y, same, levels) == pytest.approx(2.5)


def test_crps_rewards_a_band_that_holds_the_truth():
    y = np.array([0.0])
    levels = (0.1, 0.5, 0.9)
    # 2 * mean over q of the pinball losses: the 0.1-quantile at -1 is 1 below y: 0.1 * 1;
    # the median at 0: 0; the 0.9-quantile at 1 is 1 above y: (1 - 0.9) * 1.
    assert scores.crps(y, np.array([[-1.0, 0.0, 1.0]]), levels) == pytest.approx(2 * 0.2 / 3)
    assert scores.crps(y, np.array([[-1.0, 0.0, 1.0]]), levels) < scores.crps(
        y, np.array([[1.0, 1.0, 1.0]]), levels
    )


def test_conformal_quantile_takes_the_n_plus_one_rank():
    errors = np.arange(1.0, 10.0)[:, None]  # 9 windows, one step: 1 .. 9
    assert conformal_quantile(errors, 80) == [8.0]  # ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(errors, 90) == [9.0]  # ceil(10 * 0.9) = 9th
    # numpy's plain 80% quantile would be 7.4: without the correction intervals run narrow.
    assert np.quantile(errors, 0.8) == pytest.approx(7.4)


def test_conformal_quantile_is_per_horizon_step():
    errors = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0], [4.0, 40.0]])
    assert conformal_quantile(errors, 80).tolist() == [4.0, 40.0]  # rank ceil(5 * 0.8) = 4
    assert conformal_quantile(errors, 50).tolist() == [3.0, 30.0]  # rank ceil(5 * 0.5) = 3


def test_too_few_windows_for_a_level_is_one_sentence_naming_the_fix():
    assert [min_windows(level) for level in (80, 90, 95, 99)] == [4, 9, 19, 99]
    with pytest.raises(ConfigError, match="95% conformal interval needs at least 19"):
        conformal_quantile(np.ones((18, 3)), 95)
    conformal_quantile(np.ones((19, 3)), 95)


def test_split_conformal_covers_at_least_nominal_on_exchangeable_errors():
    rng = np.random.default_rng(0)
    trials, n = 20_000, 9
    errors = rng.standard_normal((trials, n + 1))  # n calibration errors + 1 test error
    calibrated = [conformal_quantile(np.abs(e[:n, None]), 80)[0] for e in errors]
    covered = np.abs(errors[:, n]) <= np.array(calibrated)
    # Exact for continuous errors: rank 8 of 10 exchangeable values -> 8 / 10.
    assert covered.mean() == pytest.approx(0.8, abs=0.01)
    plain = np.quantile(np.abs(errors[:, :n]), 0.8, axis=1)
    assert (np.abs(errors[:, n]) <= plain).mean() < 0.76


def test_calibrate_makes_symmetric_bands_per_level_and_step():
    predictions = np.zeros((9, 2))
    actual = np.stack([np.arange(1.0, 10.0), -2 * np.arange(1.0, 10.0)], axis=1)
    calibration = calibrate(predictions, actual, (80.0, 90.0))
    assert calibration.windows == 9
    assert calibration.margins.tolist() == [[8.0, 16.0], [9.0, 18.0]]
    lower, upper = calibration.bands(np.array([100.0, 200.0]))[80.0]
    assert lower.tolist() == [92.0, 184.0] and upper.tolist() == [108.0, 216.0]


def test_conformalised_quantiles_narrow_a_band_that_is_too_wide():
    actual = np.zeros((4, 1))
    # Every actual value sits 1 inside a [-2, 2] band, so CQR's scores are all -1 (or -3 below).
    bands = {80.0: (np.full((4, 1), -2.0), np.full((4, 1), 2.0))}
    actual[:, 0] = [1.0, -1.0, 1.0, 1.0]
    calibration = calibrate_quantiles(bands, actual, (80.0,))
    assert calibration.margins.tolist() == [[-1.0]]
    lower, upper = calibration.widen({80.0: (np.array([-2.0]), np.array([2.0]))})[80.0]
    assert (lower.tolist(), upper.tolist()) == ([-1.0], [1.0])


def test_rolling_origins_end_at_the_given_end_and_step_back():
    # The newest window forecasts positions 17, 18, 19 from origin 16, its last seen point.
    every = rolling_origins(end=20, horizon=3, first=5, step=2, windows=None)
    assert every == [6, 8, 10, 12, 14, 16]
    assert rolling_origins(end=20, horizon=3, first=5, step=2, windows=3) == [12, 14, 16]
    assert rolling_origins(end=20, horizon=3, first=17, step=1, windows=None) == []


def test_levels_map_to_quantiles_like_neuralforecast():
    assert quantile_levels([80, 90, 95]) == (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
    assert check_levels([95, 80, 90]) == (80.0, 90.0, 95.0)
    assert [level_name(v) for v in (80.0, 97.5)] == ["80", "97.5"]


@pytest.mark.parametrize("bad", [[], [0], [100], [80, 80], "80", [True], None])
def test_bad_levels_are_one_sentence(bad):
    with pytest.raises(ConfigError, match=r"intervals.levels=.* is invalid: set it to distinct"):
        check_levels(bad)


def test_interval_metrics_names_and_values():
    bands = {80.0: (np.array(LO), np.array(HI))}
    out = interval_metrics(Y, np.array(Y), bands, "test/")
    assert sorted(out) == ["test/coverage_80", "test/crps", "test/width_80", "test/winkler_80"]
    assert out["test/coverage_80"] == 0.5
    assert out["test/winkler_80"] == pytest.approx(4.625)
    stacked, qs = quantiles_from_bands(np.array(Y), bands)
    assert qs == (0.1, 0.5, 0.9) and stacked[:, 0].tolist() == LO and stacked[:, 2].tolist() == HI


def test_multi_quantile_loss_matches_the_numpy_pinball():
    rng = np.random.default_rng(1)
    prediction, target = rng.normal(size=(5, 3, 3)), rng.normal(size=(5, 3))
    qs = (0.1, 0.5, 0.9)
    expected = np.mean([scores.pinball(target, prediction[..., i], q) for i, q in enumerate(qs)])
    got = multi_quantile_loss(torch.tensor(prediction), torch.tensor(target), torch.tensor(qs))
    assert float(got) == pytest.approx(expected)


def test_calibration_reads_only_the_history_it_is_handed():
    series = np.sin(np.arange(200) / 5.0)
    seen = []

    def last_value(history, origins):
        seen.append(len(history))
        return np.stack([np.full(4, history[o]) for o in origins])

    calibration = calibrate_forecaster(last_value, series[:150], 4, (80.0, 90.0), 10, 1, 50)
    changed = series.copy()
    changed[150:] += 1e6  # the "test part"
    again = calibrate_forecaster(last_value, changed[:150], 4, (80.0, 90.0), 10, 1, 50)
    assert calibration.windows == 50 and seen == [150, 150]
    assert calibration.margins.tobytes() == again.margins.tobytes()
