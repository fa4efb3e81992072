"""The Hydra callback that readies the MLflow store before any run folder is made.

A multirun becomes one MLflow parent run, made before the first job starts; its id is written
into the sweep folder, where every job (in this process, joblib workers or a cluster) finds
it. Without an MLflow logger in the config the callback does nothing and imports no mlflow.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from lstm_lab.errors import ConfigError, report
from lstm_lab.io import load_yaml, write_json
from lstm_lab.replay import split_override
from lstm_lab.status import Status
from lstm_lab.tracking import (
    PARENT_FILE,
    mlflow_logger_config,
    open_experiment,
    read_parent,
    store_uri,
)

log = logging.getLogger(__name__)

# Written by the sweep (Hydra, RunFolders' summary, the Optuna sweeper): the parent run's artifacts.
SWEEP_FILES = ("summary.md", "summary.csv", "comparison.png", "multirun.yaml", "best_params.yaml")


def check_store(config: DictConfig) -> tuple[str, str] | None:
    """Open the MLflow store a run or sweep logs to (one sentence and exit 2 if it cannot
    be used), before any folder is made; (experiment id, store URI), None without MLflow."""
    node = mlflow_logger_config(config)
    return None if node is None else _open_or_exit(node)


def start_parent(config: DictConfig, sweep_dir: Path, store: tuple[str, str]) -> None:
    """The sweep's parent run, made once before any job, in the folder RunFolders claimed
    (parallel jobs on a new SQLite store would race to create it)."""
    from mlflow import MlflowClient

    experiment_id, uri = store
    client = MlflowClient(uri)
    parent = read_parent(sweep_dir)
    if parent and parent["tracking_uri"] == uri and _run_exists(client, parent["run_id"]):
        # A resumed sweep (same folder): its new jobs join the same parent.
        client.update_run(parent["run_id"], status="RUNNING")
        log.info("MLflow: the sweep goes on in parent run %s", parent["run_id"])
        return
    run = client.create_run(
        experiment_id,
        run_name=sweep_dir.name,
        tags={
            "status": "running",
            "sweep": sweep_dir.name,
            "sweep_dir": str(sweep_dir),
            "name": str(config.name),
        },
    )
    for key, value in sweep_params(config).items():
        client.log_param(run.info.run_id, key, value)
    record = {
        "tracking_uri": uri,
        "experiment_id": experiment_id,
        "run_id": run.info.run_id,
        "sweep": sweep_dir.name,
    }
    write_json(sweep_dir / PARENT_FILE, record)
    log.info("MLflow: sweep parent run %s in %s", run.info.run_id, uri)


def end_parent(config: DictConfig, sweep_dir: Path, status: Status = Status.COMPLETED) -> None:
    """The parent run's record at the sweep's end (or interruption); only in this config's
    own store, whatever the folder's parent file names."""
    node = mlflow_logger_config(config)
    parent = read_parent(sweep_dir) if node is not None else None
    if parent is None or parent.get("tracking_uri") != store_uri(node.tracking_uri):
        return
    try:
        record_sweep(sweep_dir, parent, status)
    except Exception:
        # The summary is written and printed already; the store must not hide it.
        log.exception("Could not record the sweep's end in MLflow")


def record_sweep(
    sweep_dir: Path, parent: dict[str, str], status: Status = Status.COMPLETED
) -> None:
    """The parent run's artifacts, job counts and status; the best Optuna trial tagged `best`."""
    from mlflow import MlflowClient

    from lstm_lab.sweep.jobs import read_jobs

    client = MlflowClient(parent["tracking_uri"])
    run_id = parent["run_id"]
    for name in SWEEP_FILES:
        if (sweep_dir / name).is_file():
            client.log_artifact(run_id, str(sweep_dir / name))
    counts = Counter(job.status for job in read_jobs(sweep_dir))
    client.set_tag(run_id, "jobs", ", ".join(f"{n} {status}" for status, n in counts.items()))
    best_dir = _best_job_dir(sweep_dir)
    if best_dir is not None:
        children = client.search_runs(
            [parent["experiment_id"]], filter_string=f"tags.mlflow.parentRunId = '{run_id}'"
        )
        for child in children:
            if child.data.tags.get("run_dir") == best_dir:
                client.set_tag(child.info.run_id, "best", "true")
                client.set_tag(run_id, "best_run_id", child.info.run_id)
            elif "best" in child.data.tags:
                client.delete_tag(child.info.run_id, "best")  # an earlier invocation's best
    client.set_tag(run_id, "status", status.value)
    client.set_terminated(run_id, status.mlflow)


def sweep_params(config: DictConfig) -> dict[str, str]:
    """The sweep's command-line overrides and searched parameters, as the user wrote them."""
    excluded = set(config.hydra.job.config.override_dirname.exclude_keys)
    lines = list(config.hydra.overrides.task)
    searched = OmegaConf.select(config, "hydra.sweeper.params") or {}
    lines += [f"{key}={value}" for key, value in searched.items()]
    params: dict[str, str] = {}
    for key, value in filter(None, map(split_override, lines)):
        if key not in excluded and not key.startswith("hydra"):
            params[key] = value
    return params


def _open_or_exit(node: DictConfig) -> tuple[str, str]:
    try:
        experiment_id = open_experiment(node.tracking_uri, node.artifact_root, node.experiment_name)
    except ConfigError as error:
        report(error)
        sys.exit(2)
    return experiment_id, store_uri(node.tracking_uri)


def _run_exists(client: Any, run_id: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id).info.lifecycle_stage == "active"
    except MlflowException:
        return False


def _best_job_dir(sweep_dir: Path) -> str | None:
    path = sweep_dir / "best_params.yaml"  # written by the Optuna sweeper
    if not path.is_file():
        return None
    job_dir = OmegaConf.select(OmegaConf.create(load_yaml(path)), "best.job_dir")  # bounded
    return str(Path(job_dir).absolute()) if job_dir else None
