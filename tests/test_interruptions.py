"""Interrupted runs and sweeps say so, and every sweep can be continued where it stopped."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run_cli, start_cli

# Every test here starts train.py.
pytestmark = pytest.mark.e2e

QUIET = ["plot=false", "callbacks.progress_bar.refresh_rate=0"]
# Long enough never to finish before a test signals it, checkpointed early.
ENDLESS = ["experiment=lstm", "trainer.max_steps=100000", "trainer.val_check_interval=10"]
# A run that takes a few hundred steps, with several checkpoints to resume from.
QUICK = [
    "experiment=lstm",
    "data.batch_size=32",
    "data.n_test=2000",
    "trainer.max_steps=600",
    "trainer.val_check_interval=50",
]


def start(*args: str, output: Path) -> subprocess.Popen:
    """train.py in the background, its output kept in `output` for the test to read."""
    with output.open("w") as sink:
        return start_cli(
            *args,
            stdout=sink,
            stderr=subprocess.STDOUT,
            # Ctrl-C must reach it even where the shell running the tests ignores SIGINT.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def wait_for_file(
    pattern: str, root: Path, process: subprocess.Popen, timeout: float = 300
) -> Path:
    """The first file matching `pattern` under `root`, once the running process has made it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
        assert process.poll() is None, f"the process ended (rc {process.returncode}) first"
        time.sleep(0.05)
    raise AssertionError(f"no {pattern} under {root} after {timeout} s")


def stop(process: subprocess.Popen, signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=120)


def final_metrics(folder: Path) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}


def read_summary(sweep_dir: Path) -> list[dict[str, str]]:
    with (sweep_dir / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def job_folder(sweep_dir: Path, num: int) -> Path:
    (folder,) = sweep_dir.glob(f"{num}_*")
    return folder


@pytest.mark.parametrize(
    ("signum", "cause", "exit_code"),
    [
        # Ctrl-C of a sweep is checked below; of a single run, in `make test-all`.
        pytest.param(signal.SIGINT, "Ctrl-C", 1, marks=pytest.mark.slow),
        (signal.SIGTERM, "SIGTERM", 128 + signal.SIGTERM),
    ],
)
def test_a_stopped_run_records_interrupted_with_its_step_and_how_to_resume(
    tmp_path, signum, cause, exit_code
):
    run_dir = tmp_path / "run"
    process = start(*ENDLESS, *QUIET, f"hydra.run.dir={run_dir}", output=tmp_path / "out")
    wait_for_file("checkpoints/last.ckpt", run_dir, process)
    assert stop(process, signum) == exit_code  # never 0: the run did not finish

    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "interrupted"
    assert 10 <= record["train/steps"] < 100000
    how = f"resume with: python train.py resume={run_dir}"
    assert record["error"].startswith(
        f"interrupted by {cause} at step {record['train/steps']} of 100000; {how}"
    )
    assert record["time/fit_seconds"] > 0
    assert how in (tmp_path / "out").read_text()  # the user reads it too


def test_resuming_a_finished_run_keeps_its_fit_seconds(tmp_path):
    run_dir = tmp_path / "run"
    assert (
        run_cli("experiment=lstm", "debug=fast", *QUIET, f"hydra.run.dir={run_dir}").returncode == 0
    )
    finished = json.loads((run_dir / "metrics.json").read_text())

    result = run_cli(f"resume={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text()) == finished
    # The run's own checkpoints/ is not empty: that is what resuming means, not a warning.
    assert "exists and is not empty" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def interrupted_sweep(tmp_path_factory) -> tuple[Path, str]:
    """A sweep whose first job finished and whose second got Ctrl-C after a checkpoint."""
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "interrupted"
    output = sweep_dir.parent / "out"
    process = start(
        "-m",
        *ENDLESS,
        "trainer.max_steps=20,100000",
        *QUIET,
        f"hydra.sweep.dir={sweep_dir}",
        output=output,
    )
    wait_for_file("1_*/checkpoints/last.ckpt", sweep_dir, process)
    assert stop(process, signal.SIGINT) != 0
    return sweep_dir, output.read_text()


def test_ctrl_c_during_a_sweep_still_writes_the_summary_of_finished_jobs(interrupted_sweep):
    sweep_dir, output = interrupted_sweep
    finished, stopped = read_summary(sweep_dir)
    assert finished["status"] == "completed" and float(finished["test/seq_acc"]) > 0
    assert stopped["status"] == "interrupted"
    assert f"python train.py -m resume={sweep_dir}" in stopped["error"]
    text = (sweep_dir / "summary.md").read_text()
    assert "2 jobs: 1 completed, 1 interrupted, 0 failed." in text
    assert f"Continue it with: python train.py -m resume={sweep_dir}" in output


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "resume={sweep}", "trainer.max_steps=20,30"],
        ["-m", "experiment=lstm", "trainer.max_steps=20", "seed=2", "hydra.sweep.dir={sweep}"],
    ],
    ids=["other-swept-values", "other-overrides-into-its-folder"],
)
def test_a_sweep_continued_with_other_overrides_is_refused_in_one_sentence(
    interrupted_sweep, command
):
    sweep_dir, _ = interrupted_sweep
    before = sorted(p.name for p in sweep_dir.iterdir())
    result = run_cli(*(arg.format(sweep=sweep_dir) for arg in command))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {sweep_dir} holds the sweep of `")
    assert line.endswith(
        f"continue it with `python train.py -m resume={sweep_dir}` or choose a new hydra.sweep.dir."
    )
    assert sorted(p.name for p in sweep_dir.iterdir()) == before


def test_a_continued_sweep_skips_completed_jobs_and_reruns_failed_ones(tmp_path):
    sweep_dir = tmp_path / "sweep"
    command = ["-m", "experiment=lstm", "debug=fast", "model.hidden_size=-1,4", *QUIET]
    first = run_cli(*command, f"hydra.sweep.dir={sweep_dir}")
    assert first.returncode == 0, first.stderr[-2000:]
    failed, completed = job_folder(sweep_dir, 0), job_folder(sweep_dir, 1)
    kept = (completed / "metrics.json").stat().st_mtime_ns

    result = run_cli(f"resume={sweep_dir}")  # the short form of the same command
    assert result.returncode == 0, result.stderr[-2000:]
    assert (completed / "metrics.json").stat().st_mtime_ns == kept
    assert (completed / "train.log").read_text().count("Skipped: this job completed") == 1
    # The failed job ran again, each attempt recorded in its log.
    assert (failed / "train.log").read_text().count("model.hidden_size=-1 is invalid") == 2
    rows = read_summary(sweep_dir)
    assert [(r["job"], r["status"]) for r in rows] == [("0", "failed"), ("1", "completed")]


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_to_the_metrics_of_an_uninterrupted_one(tmp_path):
    reference = tmp_path / "reference"
    assert run_cli(*QUICK, *QUIET, "seed=1", f"hydra.run.dir={reference}").returncode == 0

    sweep_dir = tmp_path / "sweep"
    command = ["-m", *QUICK, "seed=0,1", *QUIET, f"hydra.sweep.dir={sweep_dir}"]
    process = start(*command, output=tmp_path / "out")
    last = wait_for_file("1_*/checkpoints/last.ckpt", sweep_dir, process)
    assert stop(process, signal.SIGINT) != 0
    stopped = json.loads((last.parent.parent / "metrics.json").read_text())
    assert stopped["status"] == "interrupted" and stopped["train/steps"] < 600
    first_job = job_folder(sweep_dir, 0) / "metrics.json"
    kept = first_job.stat().st_mtime_ns

    result = run_cli(*command)  # the same command, into the same hydra.sweep.dir
    assert result.returncode == 0, result.stderr[-2000:]
    assert first_job.stat().st_mtime_ns == kept
    resumed = job_folder(sweep_dir, 1)
    assert final_metrics(resumed) == final_metrics(reference)
    assert "Resuming this job from" in (resumed / "train.log").read_text()
    assert sorted(p.name for p in (resumed / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert [r["status"] for r in read_summary(sweep_dir)] == ["completed", "completed"]
    assert "2 jobs: 2 completed, 0 failed." in (sweep_dir / "summary.md").read_text()
