"""A sweep's summary read from its folders: each ending counted apart, the sweep's own keys,
intervals only where the seeds allow one, and a figure drawn without warnings."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

from omegaconf import OmegaConf

from lstm_lab.sweep.jobs import read_jobs
from lstm_lab.sweep.plot import plot_comparison
from lstm_lab.sweep.summary import write_summary


def job_folder(
    sweep: Path, num: int, overrides: list[str], record: dict, curve: list[float] = ()
) -> Path:
    """A job folder as train.py leaves it: Hydra's record, metrics.json, a CSV log."""
    folder = sweep / f"{num}_{','.join(overrides)}"
    (folder / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"hydra": {"job": {"num": num}}}), folder / ".hydra/hydra.yaml")
    OmegaConf.save(OmegaConf.create(overrides), folder / ".hydra/overrides.yaml")
    (folder / "metrics.json").write_text(json.dumps(record))
    if curve:
        (folder / "csv").mkdir()
        rows = "".join(f"{10 * i + 9},{v}\n" for i, v in enumerate(curve))
        (folder / "csv" / "metrics.csv").write_text("step,val/loss\n" + rows)
    return folder


def sweep_folder(tmp_path: Path, task: list[str]) -> Path:
    sweep = tmp_path / "sweep"
    sweep.mkdir(parents=True)
    record = {"hydra": {"overrides": {"task": task, "hydra": []}, "sweeper": {}}}
    OmegaConf.save(OmegaConf.create(record), sweep / "multirun.yaml")
    return sweep


def test_an_interrupted_sweep_counts_the_interrupted_job_apart_and_keeps_its_swept_seed(tmp_path):
    sweep = sweep_folder(tmp_path, ["experiment=lstm", "seed=0,1,2"])
    job_folder(sweep, 0, ["experiment=lstm", "seed=0"], {"test/acc": 0.9, "status": "completed"})
    stopped = {"status": "interrupted", "error": "interrupted by Ctrl-C at step 40"}  # status
    job_folder(sweep, 1, ["experiment=lstm", "seed=1"], stopped)
    text = write_summary(sweep, read_jobs(sweep), "test/acc")
    assert "2 jobs: 1 completed, 1 interrupted, 0 failed." in text
    assert "Every job: `experiment=lstm`." in text

    first_only = sweep_folder(tmp_path / "b", ["experiment=lstm", "seed=0,1,2"])
    job_folder(first_only, 0, ["experiment=lstm", "seed=0"], stopped)
    text = write_summary(first_only, read_jobs(first_only), "test/acc")
    assert "1 jobs: 0 completed, 1 interrupted, 0 failed." in text
    assert "seed=0" not in text.split("## Jobs")[0]  # seed is swept, not shared by every job


def test_a_figure_with_no_curve_yet_draws_without_a_legend_warning(tmp_path):
    sweep = sweep_folder(tmp_path, ["seed=0,1"])
    job_folder(sweep, 0, ["seed=0"], {"status": "interrupted", "error": "stopped"})  # status
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_comparison(read_jobs(sweep), "val/best", sweep / "comparison.png", "sweep")
    assert (sweep / "comparison.png").stat().st_size > 10_000


def test_two_seeds_give_mean_and_std_and_say_they_are_too_few_for_an_interval(tmp_path):
    sweep = sweep_folder(tmp_path, ["model.hidden_size=4,8", "seed=0,1"])
    times = {(4, 0): 1.2, (4, 1): 1.8, (8, 0): 2.0, (8, 1): 2.1}
    for num, ((size, seed), seconds) in enumerate(times.items()):
        record = {"time/fit_seconds": seconds, "status": "completed"}
        job_folder(sweep, num, [f"model.hidden_size={size}", f"seed={seed}"], record, [1.0, 0.5])
    text = write_summary(sweep, read_jobs(sweep), "time/fit_seconds")
    assert "| 4 | 2/2 | 1.5 ± 0.42 |" in text  # no bracketed interval
    assert "Two seeds are too few for a confidence interval" in text
    with (sweep / "summary_seeds.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["ci_low"] == row["ci_high"] == "" for row in rows)
