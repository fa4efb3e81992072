"""The cluster path for real: submitit's local executor runs jobs in their own processes with
the same pickling and requeue machinery as SLURM, so preemption is tested by signalling one."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from conftest import run_cli
from test_interruptions import QUICK, QUIET, final_metrics, read_summary, start, wait_for_file

# Every test here starts train.py.
pytestmark = pytest.mark.e2e

SUBMITIT = ["-m", "hydra/launcher=submitit_local"]


def submitit_tasks(sweep_dir: Path) -> list[int]:
    """Process ids of the submitit tasks running this sweep's jobs (what SLURM would signal)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:  # not a process, or one that just ended
            continue
        if "submitit.core._submit" in command and str(sweep_dir) in command:
            pids.append(int(entry.name))
    return pids


def test_submitit_local_launcher_runs_a_sweep_end_to_end(tmp_path):
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        *SUBMITIT,
        "experiment=lstm",
        "debug=fast",
        "seed=0,1",
        *QUIET,
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_summary(sweep_dir)
    assert [(r["seed"], r["status"]) for r in rows] == [("0", "completed"), ("1", "completed")]
    # Each job ran in a process of its own, as on a cluster.
    assert len(list((sweep_dir / ".submitit").glob("*/*_result.pkl"))) == 2
    assert rows[0]["test/seq_acc"] != rows[1]["test/seq_acc"]


@pytest.mark.slow
def test_a_preempted_job_is_requeued_and_resumes_in_its_own_folder(tmp_path):
    reference = tmp_path / "reference"
    assert run_cli(*QUICK, *QUIET, "seed=0", f"hydra.run.dir={reference}").returncode == 0

    sweep_dir = tmp_path / "sweep"
    process = start(
        *SUBMITIT, *QUICK, "seed=0", *QUIET, f"hydra.sweep.dir={sweep_dir}", output=tmp_path / "out"
    )
    last = wait_for_file("0_*/checkpoints/last.ckpt", sweep_dir, process)
    (task,) = submitit_tasks(sweep_dir)
    os.kill(task, signal.SIGUSR2)  # what SLURM sends before preempting a job
    assert process.wait(timeout=300) == 0
    job = last.parent.parent

    assert final_metrics(job) == final_metrics(reference)
    log = (job / "train.log").read_text()
    assert "Caught signal SIGUSR2" in log
    stopped = re.search(r"interrupted by the scheduler .* at step (\d+) of 600", log)
    resumed = re.search(r"Resuming this job from .*last.ckpt at step (\d+)", log)
    assert stopped and resumed and int(resumed[1]) <= int(stopped[1]) < 600
    # Its own folder, one run in it: no second folder, no best-v1.ckpt or last-v1.ckpt.
    assert [p.name for p in sweep_dir.glob("*/.hydra")] == [".hydra"]
    assert sorted(p.name for p in (job / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert [r["status"] for r in read_summary(sweep_dir)] == ["completed"]
