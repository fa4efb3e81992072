"""Real multiruns through `python train.py -m`: job folders, summaries, failures, TensorBoard."""

from __future__ import annotations

import contextlib
import csv
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import open_dict, read_write

QUIET = ["debug=fast", "plot=false", "callbacks.progress_bar.refresh_rate=0"]
HIDDEN_SIZE_ERROR = "model.hidden_size=-1 is invalid: set model.hidden_size to an integer >= 1."


def multirun(sweep_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`python train.py -m <overrides>` into `sweep_dir`, as a user runs it."""
    result = run_cli("-m", *overrides, f"hydra.sweep.dir={sweep_dir}", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def read_summary(sweep_dir: Path) -> list[dict[str, str]]:
    with (sweep_dir / "summary.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A finished 2 x 2 sweep: hidden size 4 and 8, seeds 0 and 1."""
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "hidden_by_seed"
    result = multirun(sweep_dir, "experiment=lstm", "model.hidden_size=4,8", "seed=0,1", *QUIET)
    return sweep_dir, result


@pytest.mark.e2e
def test_job_folders_are_named_by_number_and_overrides(sweep):
    sweep_dir, _ = sweep
    folders = sorted(p.name for p in sweep_dir.iterdir() if (p / ".hydra").is_dir())
    assert len(folders) == 4
    for num, (hidden, seed) in enumerate([(4, 0), (4, 1), (8, 0), (8, 1)]):
        (folder,) = [f for f in folders if f.startswith(f"{num}_")]
        assert f"model.hidden_size={hidden}" in folder and f"seed={seed}" in folder
        # The TensorBoard run is named by the folder, so it shows the overrides too.
        assert list((sweep_dir / folder / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.e2e
def test_summary_has_one_row_per_job_with_its_final_metrics(sweep):
    sweep_dir, _ = sweep
    rows = read_summary(sweep_dir)
    assert [(r["job"], r["model.hidden_size"], r["seed"]) for r in rows] == [
        ("0", "4", "0"),
        ("1", "4", "1"),
        ("2", "8", "0"),
        ("3", "8", "1"),
    ]
    for row in rows:
        metrics = json.loads((sweep_dir / row["folder"] / "metrics.json").read_text())
        assert row["status"] == "completed" and row["error"] == ""
        for name in ("test/acc", "test/seq_acc", "test/loss", "val/best", "time/fit_seconds"):
            assert float(row[name]) == pytest.approx(metrics[name])
        assert "model.hidden_size=" in row["overrides"] and "experiment=lstm" in row["overrides"]


@pytest.mark.e2e
def test_summary_groups_seeds_as_mean_and_std(sweep):
    sweep_dir, result = sweep
    rows = read_summary(sweep_dir)
    text = (sweep_dir / "summary.md").read_text()
    assert "4 jobs: 4 completed, 0 failed." in text
    grouped = text.split("## Mean ± std [95% CI] over seeds")[1]
    for hidden in ("4", "8"):
        losses = [float(r["test/loss"]) for r in rows if r["model.hidden_size"] == hidden]
        mean, std = statistics.fmean(losses), statistics.stdev(losses)
        assert f"| {hidden} | 2/2 | " in grouped
        assert f"{mean:.4g} ± {std:.2g}" in grouped
    # The same tables are printed when the sweep ends.
    assert "## Mean ± std [95% CI] over seeds" in result.stdout
    assert (sweep_dir / "comparison.png").stat().st_size > 20_000


@pytest.mark.e2e
def test_a_failing_job_is_recorded_and_the_others_complete(tmp_path):
    sweep_dir = tmp_path / "one_fails"
    # The impossible value comes first: the job after it must still run.
    multirun(sweep_dir, "experiment=lstm", "model.hidden_size=-1,4", *QUIET)
    failed, completed = read_summary(sweep_dir)
    assert failed["status"] == "failed"
    assert failed["error"] == HIDDEN_SIZE_ERROR
    assert failed["test/acc"] == ""
    assert completed["status"] == "completed" and float(completed["test/acc"]) > 0
    record = json.loads((sweep_dir / failed["folder"] / "metrics.json").read_text())
    assert record == {"status": "failed", "error": failed["error"]}
    text = (sweep_dir / "summary.md").read_text()
    assert "2 jobs: 1 completed, 1 failed." in text
    assert f"- job 0 failed: {HIDDEN_SIZE_ERROR}" in text


def test_a_setting_lightning_refuses_in_a_sweep_job_is_recorded_naming_it(make_cfg, tmp_path):
    from lstm_lab.train import run

    cfg = make_cfg("experiment=lstm", "debug=fast", "+trainer.precision=bogus")
    with read_write(cfg.hydra), open_dict(cfg.hydra):
        cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(cfg)
    assert run(cfg) is None  # no value, and no exception to stop the sweep
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert record["error"].startswith(
        "trainer cannot be built from its settings (ValueError: Precision 'bogus' is invalid"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_json(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.e2e
def test_tensorboard_serves_the_curves_and_the_real_final_metrics_as_hparams(sweep):
    sweep_dir, _ = sweep
    rows = read_summary(sweep_dir)
    port = free_port()
    tensorboard = Path(sys.executable).parent / "tensorboard"
    server = subprocess.Popen(
        [str(tensorboard), "--logdir", str(sweep_dir), "--host", "127.0.0.1"]
        + [f"--port={port}", "--load_fast=false", "--reload_interval=1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        runs: list[str] = []
        while time.monotonic() < deadline and len(runs) < len(rows):
            with contextlib.suppress(OSError):  # not listening yet
                runs = fetch_json(f"{base}/data/runs")
            time.sleep(0.5)
        assert sorted(runs) == sorted(f"{r['folder']}/tensorboard" for r in rows)

        run = f"{rows[0]['folder']}/tensorboard"
        query = urllib.parse.urlencode({"run": run, "tag": "val/loss"})
        curve = fetch_json(f"{base}/data/plugin/scalars/scalars?{query}")
        # debug=fast validates every 10 of its 20 steps: two points, logged at steps 9 and 19.
        assert [step for _, step, _ in curve] == [9, 19]
        assert all(0 < value < 1 for _, _, value in curve)

        experiment = fetch_json(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        differing = {h["name"] for h in experiment["hparamInfos"] if h.get("differs")}
        assert differing == {"model.hidden_size", "seed"}
        groups = fetch_json(
            f"{base}/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "allowedStatuses": ["STATUS_SUCCESS", "STATUS_UNKNOWN"],
                "colParams": [],
                "startIndex": 0,
                "sliceSize": 100,
            },
        )["sessionGroups"]
        by_run = {g["name"]: g for g in groups}
        for row in rows:
            group = by_run[f"{row['folder']}/tensorboard"]
            assert group["hparams"]["model.hidden_size"] == float(row["model.hidden_size"])
            metrics = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
            # The real final metrics, not Lightning's placeholder hp_metric = -1.
            assert "hp_metric" not in metrics
            assert metrics["test/seq_acc"] == pytest.approx(float(row["test/seq_acc"]))
            assert metrics["val/best"] == pytest.approx(float(row["val/best"]))
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_joblib_launcher_runs_two_jobs_at_once(tmp_path):
    sweep_dir = tmp_path / "parallel"
    multirun(
        sweep_dir,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "experiment=lstm",
        "seed=0,1",
        *QUIET,
    )
    rows = read_summary(sweep_dir)
    assert [(r["job"], r["seed"], r["status"]) for r in rows] == [
        ("0", "0", "completed"),
        ("1", "1", "completed"),
    ]
    # Each job ran in its own worker process: event files are named ...<host>.<pid>.<n>.
    pids = {
        event.name.split(".")[-2]
        for r in rows
        for event in (sweep_dir / r["folder"] / "tensorboard").glob("events.out.tfevents.*")
    }
    assert len(pids) == 2
