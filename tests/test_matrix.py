"""Features that meet: every way of running (one run, the basic, joblib and submitit launchers,
an Optuna search) with every logger (TensorBoard, MLflow, both), fresh and killed then resumed.

Each case checks one folder per run and per sweep, a completed record per job, the summary's
rows, TensorBoard's event files, and one MLflow parent with every job as its finished child.
`make test` runs one case that crosses all of it; `make test-all` runs the whole matrix.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import run_cli

from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

TINY = ["debug=fast", "plot=false", "callbacks.progress_bar.refresh_rate=0"]
WAYS = {
    "single": ["experiment=lstm"],
    "basic": ["-m", "experiment=lstm", "seed=0,1"],
    "joblib": ["-m", "experiment=lstm", "seed=0,1", "hydra/launcher=joblib"],
    "submitit_local": ["-m", "experiment=lstm", "seed=0,1", "hydra/launcher=submitit_local"],
    "optuna": ["-m", "hparams_search=bilstm_optuna", "hydra.sweeper.n_trials=2"],
}
LOGGERS = ("tensorboard", "mlflow", "tensorboard_mlflow")
# The one case `make test` runs: a sweep with both loggers, killed in a job and resumed.
FAST = ("basic", "tensorboard_mlflow", True)


def cases():
    for way in WAYS:
        for logger in LOGGERS:
            for resumed in (False, True) if way != "optuna" else (False,):
                marks = [pytest.mark.e2e] + (
                    [] if (way, logger, resumed) == FAST else [pytest.mark.slow]
                )
                yield pytest.param(
                    way,
                    logger,
                    resumed,
                    marks=marks,
                    id=f"{way}-{logger}-{'resumed' if resumed else 'fresh'}",
                )


def the_one_folder(parent: Path) -> Path:
    (folder,) = [p for p in parent.iterdir() if p.is_dir()]
    return folder


def jobs_of(folder: Path, single: bool) -> list[Path]:
    return (
        [folder]
        if single
        else sorted(p.parent.parent for p in folder.glob("*/.hydra/overrides.yaml"))
    )


@pytest.mark.parametrize(("way", "logger", "resumed"), list(cases()))
def test_every_way_of_running_with_every_logger_keeps_one_record(tmp_path, way, logger, resumed):
    single = way == "single"
    args = [*WAYS[way], *TINY, f"logger={logger}", f"paths.log_dir={tmp_path}"]
    first = run_cli(*args, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    kind = "runs" if single else "hparams_search" if way == "optuna" else "multiruns"
    folder = the_one_folder(tmp_path / "train" / kind)
    jobs = jobs_of(folder, single)
    assert len(jobs) == (1 if single else 2)

    if resumed:  # as if the process had been killed in the last job before its record
        (jobs[-1] / "metrics.json").unlink()
        flag = [] if single else ["-m"]
        again = run_cli(*flag, f"resume={folder}", timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        assert the_one_folder(tmp_path / "train" / kind) == folder
        assert jobs_of(folder, single) == jobs

    assert [RunRecord(job).status for job in jobs] == [Status.COMPLETED] * len(jobs)
    if not single:
        with (folder / "summary.csv").open() as file:
            rows = list(csv.DictReader(file))
        assert [row["status"] for row in rows] == ["completed"] * len(jobs)
    if "tensorboard" in logger:
        assert all(list((job / "tensorboard").rglob("events.out.tfevents.*")) for job in jobs)
    if "mlflow" in logger:
        check_mlflow(tmp_path / "mlflow.db", jobs, single)


def check_mlflow(store: Path, jobs: list[Path], single: bool) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{store}")
    runs = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    parents = [
        r for r in runs if "mlflow.parentRunId" not in r.data.tags and "sweep" in r.data.tags
    ]
    children = [r for r in runs if r not in parents]
    assert sorted(Path(c.data.tags["run_dir"]) for c in children) == jobs  # one run per job
    assert {(c.info.status, c.data.tags["status"]) for c in children} == {("FINISHED", "completed")}
    if single:
        assert not parents
        return
    (parent,) = parents
    assert parent.info.status == "FINISHED" and parent.data.tags["status"] == "completed"
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
