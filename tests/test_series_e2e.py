"""Real data end to end: an MLflow sweep resumed; predict.py past a newer file."""

from __future__ import annotations

import csv

import mlflow
import pandas as pd
import pytest
from conftest import run_cli
from test_series_data import write_csv

pytestmark = pytest.mark.e2e
QUIET = ["debug=fast", "callbacks.progress_bar.refresh_rate=0"]


def test_a_real_data_sweep_with_mlflow_resumes_and_sums_up_the_baselines(tmp_path):
    sweep_dir = tmp_path / "sweep"
    command = ["-m", "experiment=air_passengers", "seed=1,2", "logger=mlflow", *QUIET]
    first = run_cli(*command, f"paths.log_dir={tmp_path}", f"hydra.sweep.dir={sweep_dir}")
    assert first.returncode == 0, first.stderr[-3000:]
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name[0].isdigit())
    assert len(jobs) == 2
    # A job that never finished: its record gone, its checkpoints kept.
    (jobs[1] / "metrics.json").unlink()

    resumed = run_cli(f"resume={sweep_dir}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Skipped: this job completed" in (jobs[0] / "train.log").read_text()
    with (sweep_dir / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed", "completed"]
    for row in rows:
        assert float(row["test/mape"]) > 0 and float(row["test/seasonal_naive/mape"]) > 0
    assert "test/auto_arima/mase" in (sweep_dir / "summary.md").read_text()

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.get_experiment_by_name("air_passengers")
    children = [
        r for r in client.search_runs([experiment.experiment_id]) if "test/mape" in r.data.metrics
    ]
    assert len(children) >= 2
    assert all("test/seasonal_naive/mape" in r.data.metrics for r in children)


def test_predict_forecasts_the_days_after_a_newer_file(tmp_path):
    older = write_csv(tmp_path, rows=90)
    run_dir = tmp_path / "run"
    columns = ["data.time=date", "data.target=sales", "data.horizon=7"]
    trained = run_cli(
        "experiment=forecast_csv",
        f"data.path={older}",
        *columns,
        *QUIET,
        f"hydra.run.dir={run_dir}",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]

    newer = tmp_path / "newer"
    newer.mkdir()
    newer = write_csv(newer, rows=100)
    predicted = run_cli(f"run_dir={run_dir}", f"data.path={newer}", script="predict.py")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    forecast = pd.read_csv(run_dir / "predict" / "forecast.csv")
    # 100 days from 2024-01-01 end on 2024-04-09: the next 7 days follow.
    expected = pd.date_range("2024-04-10", periods=7, freq="D").strftime("%Y-%m-%d").tolist()
    assert forecast["date"].tolist() == expected
    assert "2024-04-16" in predicted.stdout


def test_predict_from_a_folder_that_is_not_a_run_is_one_sentence(tmp_path):
    result = run_cli(f"run_dir={tmp_path}", script="predict.py")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: run_dir=") and "holds no checkpoints" in line


def test_predict_help_lists_its_arguments():
    result = run_cli("--help", script="predict.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("predict.py: forecast the next data.horizon points")
    for key in ("run_dir=", "ckpt_path=", "data.path=", "num_threads="):
        assert key in result.stdout
