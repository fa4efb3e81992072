"""Adaptive conformal inference over backtest windows: hand-checked levels, and no window's
interval reads its own or a later window's actual values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from lstm_lab.config import build
from lstm_lab.errors import ConfigError
from lstm_lab.intervals.adaptive import aci_margins, quantile_at
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.backtest import aci_bands
from lstm_lab.tasks.forecasts import model_forecasts
from lstm_lab.tasks.series_intervals import IntervalSettings

ONE_TO_19 = np.arange(1.0, 20.0)[:, None]  # 19 calibration scores, one horizon step


def test_quantile_at_takes_the_n_plus_one_rank_clipped_to_the_scores():
    assert quantile_at(ONE_TO_19, 0.1)[0] == 18  # ceil(20 * 0.9) = 18
    assert quantile_at(ONE_TO_19, 0.2)[0] == 16
    assert quantile_at(ONE_TO_19, -0.3)[0] == 19  # rank 26: the largest, not infinite
    assert quantile_at(ONE_TO_19, 1.5)[0] == 1


def test_each_hit_raises_alpha_and_a_miss_lowers_it_by_gamma_steps():
    # level 90: target alpha 0.1; gamma 0.5. Hits (score 0) add 0.5 * 0.1, a miss 0.5 * -0.9.
    margins, alphas = aci_margins(
        [ONE_TO_19] * 4, [[0.0], [0.0], [100.0], [0.0]], [0, 1, 2, 3], 1, 90, 0.5
    )
    np.testing.assert_allclose(alphas, [0.1, 0.15, 0.2, -0.25])
    assert margins[:, 0].tolist() == [18, 17, 16, 19]


def test_a_window_counts_only_once_its_last_target_is_observed():
    # horizon 2, origins one apart: window 0's two misses reach window 2, not window 1.
    margins, alphas = aci_margins(
        [np.repeat(ONE_TO_19, 2, axis=1)] * 3,
        [[100.0, 100.0], [100.0, 100.0], [0.0, 0.0]],
        [0, 1, 2],
        2,
        90,
        0.02,
    )
    np.testing.assert_allclose(alphas, [0.1, 0.1, 0.1 - 0.02 * 2 * 0.9])
    assert margins.tolist() == [[18, 18], [18, 18], [19, 19]]  # ceil(20 * 0.936) = 19


def test_a_window_does_not_depend_on_its_own_or_unobserved_actuals():
    rng = np.random.default_rng(0)
    windows, horizon = 12, 3
    calibration = [rng.exponential(1.0, (30, horizon)) for _ in range(windows)]
    scores = rng.exponential(1.5, (windows, horizon))
    origins = np.arange(windows)
    margins, alphas = aci_margins(calibration, scores, origins, horizon, 80, 0.05)
    for w in range(windows):
        # window j's targets end by w's origin iff j + horizon <= w: the others may change
        unseen = max(0, w - horizon + 1)
        changed = scores.copy()
        changed[unseen:] = rng.exponential(50.0, changed[unseen:].shape)
        again, again_alphas = aci_margins(calibration, changed, origins, horizon, 80, 0.05)
        assert again[w].tobytes() == margins[w].tobytes(), w
        assert again_alphas[w] == alphas[w]
    # ...while the windows it has observed do move it (the check above can fail).
    changed = scores.copy()
    changed[: windows - horizon] = 100.0
    _, moved = aci_margins(calibration, changed, origins, horizon, 80, 0.05)
    assert moved[-1] < alphas[-1]


def test_origins_out_of_time_order_are_refused():
    with pytest.raises(ValueError, match="time order"):
        aci_margins([ONE_TO_19] * 2, [[0.0], [0.0]], [3, 1], 1, 90, 0.1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"adaptive": "yes"}, "intervals.adaptive"),
        ({"gamma": 0}, "intervals.gamma"),
        ({"adaptive": "aci", "method": "quantile"}, "intervals.method=cqr or conformal"),
    ],
)
def test_bad_adaptive_settings_are_one_sentence(change, message):
    cfg = {"levels": [80, 90], "method": "conformal", "windows": 10, "step": 1} | change
    with pytest.raises(ConfigError, match=message) as raised:
        IntervalSettings.from_config(OmegaConf.create(cfg))
    assert str(raised.value).count(". ") == 0


N, HORIZON, STEP, WINDOWS = 120, 6, 3, 8


def write_series(path: Path, shift_after: int | None = None) -> Path:
    """A noisy monthly season on a trend; values after position `shift_after` moved by 1e4."""
    rng = np.random.default_rng(3)
    t = np.arange(N)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, N)
    if shift_after is not None:
        y[shift_after + 1 :] += 1e4
    time = pd.date_range("2000-01-01", periods=N, freq="MS")
    pd.DataFrame({"ds": time, "y": y}).to_csv(path, index=False)
    return path


def backtest_aci(csv: Path) -> dict:
    """ACI bands of WINDOWS backtest windows, the model 'fitted' before the first."""
    origins = N - 1 - HORIZON - STEP * np.arange(WINDOWS - 1, -1, -1)
    fit = int(origins[0])
    data = build(
        "data/series", path=str(csv), horizon=HORIZON, lookback=12, val_size=12,
        train_end=fit, test_start=fit + 1, keep="all",
    )  # fmt: skip
    torch.manual_seed(0)
    model = build("model/direct", **data.model_arguments)
    with torch.no_grad():
        model.head.weight.normal_(0, 0.1)  # an untrained model that still varies by window
    values = data.series.values
    fits = [fit] * WINDOWS
    predicted = {"lstm": model_forecasts(model, data, origins)}
    predicted |= stat_baselines.forecast(
        ["seasonal_naive"], values, fits, origins, HORIZON, data.season
    )
    settings = IntervalSettings((80.0, 95.0), "conformal", 20, 1, "aci", 0.05)
    groups = [(list(range(WINDOWS)), model, data)]
    return origins, aci_bands(settings, groups, values, origins, fits, predicted)


def test_backtest_aci_bands_do_not_read_a_window_s_own_targets(tmp_path):
    origins, before = backtest_aci(write_series(tmp_path / "a.csv"))
    for w in (2, 5):  # everything after window w's origin moved by 1e4
        _, after = backtest_aci(write_series(tmp_path / f"{w}.csv", int(origins[w])))
        for name in before:
            for level in (80.0, 95.0):
                for side in (0, 1):
                    assert (
                        before[name][level][side][: w + 1].tobytes()
                        == after[name][level][side][: w + 1].tobytes()
                    ), (name, level, w)
        # the later windows did see the change: their bands moved
        assert not np.array_equal(before["lstm"][80.0][0][w + 1 :], after["lstm"][80.0][0][w + 1 :])
