"""The series task's intervals: calibrated without the test part, scored on real runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_cli

from lstm_lab.config import build
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.series import SeriesTask

N, HORIZON = 96, 6


def write_series(path: Path, test_shift: float = 0.0) -> Path:
    """A noisy monthly season on a trend; the last HORIZON values moved by `test_shift`."""
    rng = np.random.default_rng(3)
    t = np.arange(N)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, N)
    y[-HORIZON:] += test_shift
    time = pd.date_range("2000-01-01", periods=N, freq="MS")
    pd.DataFrame({"ds": time, "y": y}).to_csv(path, index=False)
    return path


def task_bands(csv: Path, keep: str) -> tuple[SeriesTask, dict]:
    data = build("data/series", path=str(csv), horizon=HORIZON, lookback=12, val_size=12, keep=keep)
    torch.manual_seed(0)
    model = build("model/direct", **data.model_arguments)
    with torch.no_grad():
        model.head.weight.normal_(0, 0.1)  # an untrained model that still varies by window
    intervals = {"levels": [80, 95], "method": "conformal", "windows": 30, "step": 1}
    task = SeriesTask(baselines=list(stat_baselines.NAMES), intervals=intervals)
    return task, task.test_bands(model, data)


@pytest.mark.parametrize("keep", ["all", "last"])
def test_changing_the_test_part_leaves_the_calibration_bitwise_unchanged(tmp_path, keep):
    _, before = task_bands(write_series(tmp_path / "a.csv"), keep)
    _, after = task_bands(write_series(tmp_path / "b.csv", test_shift=1e4), keep)
    assert set(before) == {"lstm", "seasonal_naive", "auto_ets", "auto_arima", "auto_theta"}
    for name in before:
        for level in (80.0, 95.0):
            width = before[name][level][1] - before[name][level][0]
            again = after[name][level][1] - after[name][level][0]
            # Widths are 2 x the margins; under keep=last, later test forecasts read test values.
            assert width.tobytes() == again.tobytes(), (name, level)
            if keep == "all":
                assert before[name][level][0].tobytes() == after[name][level][0].tobytes()


def test_the_95_percent_band_holds_the_80_percent_one(tmp_path):
    _, bands = task_bands(write_series(tmp_path / "a.csv"), "all")
    for name, by_level in bands.items():
        assert (by_level[95.0][0] <= by_level[80.0][0]).all(), name
        assert (by_level[95.0][1] >= by_level[80.0][1]).all(), name


@pytest.mark.e2e
def test_a_quantile_run_reports_intervals_for_every_model_and_exports(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(
        "experiment=air_passengers",
        "trainer.max_steps=20",
        "trainer.val_check_interval=10",
        "model.loss=quantile",
        "model.levels=[80,90]",
        "intervals.method=cqr",
        "intervals.levels=[80,90]",
        "backtest.windows=2",
        "backtest.step=12",
        "logger=csv",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for prefix in ("test", "backtest"):
        for name in ("", "/seasonal_naive", "/auto_ets", "/auto_arima", "/auto_theta"):
            for level in ("80", "90"):
                assert 0 <= metrics[f"{prefix}{name}/coverage_{level}"] <= 1
                assert (
                    metrics[f"{prefix}{name}/winkler_{level}"]
                    >= metrics[f"{prefix}{name}/width_{level}"]
                    > 0
                )
            assert metrics[f"{prefix}{name}/crps"] > 0
        assert f"{prefix}/coverage_95" not in metrics
    exported = run_cli(f"run_dir={run_dir}", script="export.py")
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert "quantiles 0.05, 0.1, 0.5, 0.9, 0.95" in exported.stdout
    difference = float(exported.stdout.rsplit("max |difference|", 1)[1])
    assert difference < 1e-3
