"""MLflow beside TensorBoard: runs and sweeps read back from the store with MLflow's own client."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import mlflow
import pytest
from conftest import run_cli, start_cli, wait_for

# Every test here starts train.py (or a server) as a real process.
pytestmark = pytest.mark.e2e

QUIET = ["debug=fast", "callbacks.progress_bar.refresh_rate=0"]
# Every file a finished run hands to MLflow, by artifact path.
RUN_ARTIFACTS = {
    "metrics.json": "metrics.json",
    "predictions.png": "predictions.png",
    "train.log": "train.log",
    "config/config.yaml": ".hydra/config.yaml",
    "config/overrides.yaml": ".hydra/overrides.yaml",
    "checkpoints/best.ckpt": "checkpoints/best.ckpt",
}


def store(log_dir: Path) -> mlflow.MlflowClient:
    """MLflow's client on the store every run under `log_dir` shares."""
    return mlflow.MlflowClient(f"sqlite:///{log_dir}/mlflow.db")


def runs_of(client: mlflow.MlflowClient, experiment: str) -> list:
    return client.search_runs([client.get_experiment_by_name(experiment).experiment_id])


def artifact_paths(client: mlflow.MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    paths: set[str] = set()
    for info in client.list_artifacts(run_id, path):
        paths |= artifact_paths(client, run_id, info.path) if info.is_dir else {info.path}
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def final_numbers(run_dir: Path) -> dict[str, float]:
    record = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in record.items() if isinstance(v, int | float)}


def multirun(*overrides: str) -> None:
    result = run_cli("-m", *overrides, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def single_run(tmp_path_factory) -> Path:
    """One finished run logging to TensorBoard and MLflow; returns its log_dir."""
    log_dir = tmp_path_factory.mktemp("single")
    result = run_cli(
        "experiment=lstm",
        "logger=tensorboard_mlflow",
        *QUIET,
        f"paths.log_dir={log_dir}",
        f"hydra.run.dir={log_dir}/run",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return log_dir


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A finished 2-job multirun on two joblib workers (other processes) with logger=mlflow."""
    log_dir = tmp_path_factory.mktemp("sweep")
    multirun(
        "experiment=lstm",
        "logger=mlflow",
        "model.hidden_size=4,8",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "plot=false",
        *QUIET,
        f"paths.log_dir={log_dir}",
        f"hydra.sweep.dir={log_dir}/sweep",
    )
    return log_dir


def test_a_run_records_its_settings_curves_final_metrics_status_and_files(single_run):
    client = store(single_run)
    (run,) = runs_of(client, "lstm")  # the MLflow experiment is named after the experiment
    run_dir = single_run / "run"
    assert run.info.status == "FINISHED"
    assert run.data.tags["status"] == "completed"
    assert run.data.tags["run_dir"] == str(run_dir)

    params = run.data.params
    assert params["experiment"] == "lstm" and params["debug"] == "fast"
    assert params["model.hidden_size"] == "32" and params["model.optimizer.lr"] == "0.02"
    assert params["model.bidirectional"] == "false" and params["seed"] == "1"
    assert not [k for k, v in params.items() if "_target_" in k or "_target_" in v]

    numbers = final_numbers(run_dir)
    assert {"test/seq_acc", "val/best", "time/fit_seconds"} <= set(numbers)
    for name, value in numbers.items():
        assert run.data.metrics[name] == pytest.approx(value)
    # debug=fast: 20 steps, the loss logged every 5, validation every 10.
    history = client.get_metric_history(run.info.run_id, "train/loss")
    assert [m.step for m in history] == [4, 9, 14, 19]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val/loss")] == [9, 19]

    assert artifact_paths(client, run.info.run_id) == set(RUN_ARTIFACTS)
    downloaded = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, tracking_uri=client.tracking_uri
        )
    )
    for artifact, original in RUN_ARTIFACTS.items():
        copy, source = (downloaded / artifact).read_bytes(), (run_dir / original).read_bytes()
        # train.log is copied with the final table in it; the process may log more after.
        assert copy == source if artifact != "train.log" else source.startswith(copy)
    assert b"time/fit_seconds" in (downloaded / "train.log").read_bytes()
    # TensorBoard still gets the curves.
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))


def test_a_multirun_is_one_parent_run_with_a_child_per_job(sweep):
    client = store(sweep)
    runs = runs_of(client, "lstm")
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = sorted(
        (r for r in runs if r is not parent), key=lambda r: int(r.data.params["model.hidden_size"])
    )
    sweep_dir = sweep / "sweep"
    assert parent.info.run_name == "sweep" and parent.info.status == "FINISHED"
    assert parent.data.tags["status"] == "completed"
    assert parent.data.tags["jobs"] == "2 completed"
    assert parent.data.params["model.hidden_size"] == "4,8"
    assert parent.data.params["experiment"] == "lstm"
    assert artifact_paths(client, parent.info.run_id) == {
        "summary.md",
        "summary.csv",
        "comparison.png",
        "multirun.yaml",
    }

    assert [c.data.params["model.hidden_size"] for c in children] == ["4", "8"]
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["status"] == "completed"
        job_dir = Path(child.data.tags["run_dir"])
        assert job_dir.parent == sweep_dir
        for name, value in final_numbers(job_dir).items():
            assert child.data.metrics[name] == pytest.approx(value)
        assert "checkpoints/best.ckpt" in artifact_paths(client, child.info.run_id)


@pytest.mark.slow
def test_an_optuna_search_tags_its_best_trial(tmp_path):
    multirun(
        "hparams_search=bilstm_optuna",
        "hydra.sweeper.n_trials=3",
        "logger=mlflow",
        *QUIET,
        f"paths.log_dir={tmp_path}",
        f"hydra.sweep.dir={tmp_path}/search",
    )
    client = store(tmp_path)
    runs = runs_of(client, "bilstm")
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if r is not parent]
    assert len(trials) == 3
    # The search minimizes val/best: the tagged trial has the lowest.
    best = min(trials, key=lambda r: r.data.metrics["val/best"])
    assert [r.info.run_id for r in trials if r.data.tags.get("best") == "true"] == [
        best.info.run_id
    ]
    assert parent.data.tags["best_run_id"] == best.info.run_id
    assert parent.data.params["model.hidden_size"] == "choice(8, 16, 32, 64)"
    assert "best_params.yaml" in artifact_paths(client, parent.info.run_id)


@pytest.mark.slow
def test_a_diverged_run_is_recorded_as_diverged(tmp_path):
    result = run_cli(
        "experiment=stacked_lstm",
        "logger=mlflow",
        "model.optimizer.lr=1e30",
        "model.scheduler.name=none",
        *QUIET,
        f"paths.log_dir={tmp_path}",
        f"hydra.run.dir={tmp_path}/run",
    )
    assert result.returncode == 1
    (run,) = runs_of(store(tmp_path), "stacked_lstm")
    assert run.info.status == "FAILED"
    assert run.data.tags["status"] == "diverged"
    assert "model.optimizer.lr" in run.data.tags["error"]
    assert "metrics.json" in artifact_paths(store(tmp_path), run.info.run_id)


def test_an_interrupted_run_is_recorded_as_interrupted(tmp_path):
    run_dir = tmp_path / "run"
    process = start_cli(
        "experiment=lstm",
        "logger=mlflow",
        "trainer.max_steps=100000",
        "callbacks.progress_bar.refresh_rate=0",
        f"paths.log_dir={tmp_path}",
        f"hydra.run.dir={run_dir}",
    )
    run_file = run_dir / "mlflow_run.json"  # written once the run exists in the store
    wait_for(run_file.is_file, what="the MLflow run")
    client, run_id = store(tmp_path), json.loads(run_file.read_text())["run_id"]

    def loss_logged() -> bool:
        assert process.poll() is None, "the run ended before it logged a loss"
        return "train/loss" in client.get_run(run_id).data.metrics

    wait_for(loss_logged, what="the first loss in MLflow")
    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=120) != 0
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags["status"] == "interrupted"


def test_a_tensorboard_only_run_never_imports_mlflow(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")  # python -X importtime
    result = run_cli(
        "experiment=lstm",
        *QUIET,
        "plot=false",
        f"paths.log_dir={tmp_path}",
        f"hydra.run.dir={tmp_path}/run",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "pytorch_lightning" in imported and "tensorboard" in imported
    assert not [name for name in imported if name.split(".")[0] == "mlflow"]
    assert not (tmp_path / "mlflow.db").exists()


# Each mistake on a single run and on a multirun; the default tier takes one of each route.
SINGLE = ()
MULTI = ("-m", "seed=1,2")


@pytest.mark.parametrize("mode", [SINGLE, pytest.param(MULTI, marks=pytest.mark.slow)])
def test_an_unwritable_store_ends_in_one_sentence_before_training(tmp_path, mode):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_cli(
        *mode,
        "logger=mlflow",
        f"logger.mlflow.tracking_uri=sqlite:///{blocker}/mlflow.db",
        *QUIET,
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: cannot write the MLflow store under {blocker} (file exists): choose a "
        "writable place with logger.mlflow.tracking_uri=sqlite:///<file>."
    )
    assert not (tmp_path / "train").exists()  # no run or sweep folder


@pytest.mark.parametrize("mode", [pytest.param(SINGLE, marks=pytest.mark.slow), MULTI])
def test_a_tracking_server_that_does_not_answer_ends_in_one_sentence_before_training(
    tmp_path, mode
):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = run_cli(
        *mode,
        "logger=mlflow",
        f"logger.mlflow.tracking_uri={uri}",
        *QUIET,
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: the MLflow tracking server {uri} does not answer (Connection refused): "
        "start it (make mlflow) or log to the local store by leaving out "
        "logger.mlflow.tracking_uri."
    )
    assert not (tmp_path / "train").exists()  # no run or sweep folder


def mlflow_server_installed() -> bool:
    try:
        importlib.metadata.version("mlflow")  # the full package; mlflow-skinny has no server
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def fetch_json(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=30) as r:
        return json.loads(r.read())


@pytest.mark.slow
@pytest.mark.skipif(
    not mlflow_server_installed(),
    reason="the MLflow server is not installed (make mlflow or make test-all installs it)",
)
def test_the_mlflow_server_serves_the_sweep_over_rest(sweep):
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--workers", "1"]
        + ["--backend-store-uri", f"sqlite:///{sweep}/mlflow.db"]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers are ended with it
    )
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api/2.0/mlflow"

    def healthy() -> bool:
        assert server.poll() is None, "the MLflow server exited"
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as r:
                return r.read() == b"OK"
        except OSError:  # not listening yet
            return False

    try:
        wait_for(healthy, timeout=180, what="the MLflow server")

        query = urllib.parse.urlencode({"experiment_name": "lstm"})
        experiment = fetch_json(f"{api}/experiments/get-by-name?{query}")["experiment"]
        runs = fetch_json(f"{api}/runs/search", {"experiment_ids": [experiment["experiment_id"]]})
        runs = runs["runs"]
        tags = [{t["key"]: t["value"] for t in r["data"].get("tags", [])} for r in runs]
        (parent,) = [r for r, t in zip(runs, tags, strict=True) if "mlflow.parentRunId" not in t]
        parent_id = parent["info"]["run_id"]
        children = [
            (r, t)
            for r, t in zip(runs, tags, strict=True)
            if t.get("mlflow.parentRunId") == parent_id
        ]
        assert len(children) == 2
        hidden_sizes = set()
        for child, child_tags in children:
            params = {p["key"]: p["value"] for p in child["data"]["params"]}
            hidden_sizes.add(params["model.hidden_size"])
            metrics = {m["key"]: m["value"] for m in child["data"]["metrics"]}
            for name, value in final_numbers(Path(child_tags["run_dir"])).items():
                assert metrics[name] == pytest.approx(value)
        assert hidden_sizes == {"4", "8"}

        listed = fetch_json(f"{api}/artifacts/list?run_id={parent_id}")
        assert {f["path"] for f in listed["files"]} >= {"summary.md", "comparison.png"}
        query = urllib.parse.urlencode({"path": "summary.md", "run_uuid": parent_id})
        with urllib.request.urlopen(f"{base}/get-artifact?{query}", timeout=30) as r:
            assert r.read() == (sweep / "sweep" / "summary.md").read_bytes()
        with urllib.request.urlopen(base, timeout=30) as r:  # the UI
            assert b"MLflow" in r.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
