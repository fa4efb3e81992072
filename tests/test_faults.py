"""Runs survive kills, repeat exactly, and scale out to DDP without writing twice."""

from __future__ import annotations

import json
import re
import shutil
import signal

import pytest
from conftest import run_cli, start_cli, wait_for

from lstm_lab.train import train

QUICK = {
    "lstm": ["experiment=lstm", "data.batch_size=32", "data.n_test=2000"],
    "stacked_lstm": ["experiment=stacked_lstm"],
}


def final_metrics(run_dir) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}


@pytest.mark.e2e
@pytest.mark.parametrize(
    # The regressor's run is the same check on the other kind of model: `make test-all`.
    "experiment",
    ["lstm", pytest.param("stacked_lstm", marks=pytest.mark.slow)],
)
def test_killed_run_resumes_to_the_same_final_metrics(tmp_path, experiment):
    args = [
        *QUICK[experiment],
        "trainer.max_steps=600",
        "trainer.val_check_interval=50",
        "plot=false",
    ]
    # The uninterrupted reference takes one step per Lightning batch; the killed run groups
    # model.steps_per_execution (10) steps per batch, so the kill lands inside a group.
    whole = run_cli(*args, "model.steps_per_execution=1", f"hydra.run.dir={tmp_path / 'whole'}")
    assert whole.returncode == 0

    killed = tmp_path / "killed"
    process = start_cli(*args, f"hydra.run.dir={killed}")
    last = killed / "checkpoints" / "last.ckpt"
    log = killed / "train.log"
    # The step-60 progress line comes after step 50's checkpoint is written: kill mid-training.
    wait_for(
        lambda: process.poll() is not None or (log.exists() and "step 60/600" in log.read_text()),
        what="the progress line after the first checkpoint",
    )
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "metrics.json").exists()
    saved = tmp_path / "at-kill.ckpt"
    shutil.copy(last, saved)

    # resume=<run_dir> continues in the same folder with the run's own overrides.
    resumed = run_cli(f"resume={killed}")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert final_metrics(killed) == final_metrics(tmp_path / "whole")
    assert re.search(rf"Resumed at step \d+ of 600 from {re.escape(str(last))}", resumed.stdout)

    # ckpt_path=<checkpoint> continues into a new folder, given the same overrides.
    elsewhere = tmp_path / "elsewhere"
    result = run_cli(*args, f"ckpt_path={saved}", f"hydra.run.dir={elsewhere}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert final_metrics(elsewhere) == final_metrics(tmp_path / "whole")


def test_same_experiment_and_seed_give_identical_metrics(make_cfg, tmp_path):
    overrides = ["experiment=stacked_lstm", "trainer.max_steps=200", "plot=false"]
    first = train(make_cfg(*overrides, output_dir=tmp_path / "a"))
    second = train(make_cfg(*overrides, output_dir=tmp_path / "b"))
    assert final_metrics(tmp_path / "a") == final_metrics(tmp_path / "b")
    third = train(make_cfg(*overrides, "seed=2", output_dir=tmp_path / "c"))
    assert third["test/mse"] != first["test/mse"] == second["test/mse"]


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["lstm", "stacked_lstm"])
def test_ddp_on_two_cpu_processes_writes_once(tmp_path, experiment):
    run_dir = tmp_path / "ddp"
    result = run_cli(
        f"experiment={experiment}",
        "trainer=ddp",
        "debug=fast",
        f"hydra.run.dir={run_dir}",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert len(list(run_dir.rglob("metrics.json"))) == 1
    # Event file names end in <pid>.<n>: every one of them comes from the rank-0 process.
    events = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events and len({path.name.split(".")[-2] for path in events}) == 1
    assert (run_dir / "train_ddp_process_1.log").exists()  # the second rank really ran
