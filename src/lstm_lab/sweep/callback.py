"""RunFolders: the one Hydra callback that owns run and sweep folders, from the checks made
before any folder exists to the summary and the MLflow parent run at a sweep's end."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from lstm_lab.errors import ConfigError, report
from lstm_lab.run_dirs import (
    claim_run,
    claim_sweep,
    discard_refused_run,
    is_other_rank,
    lock,
    unlock,
)
from lstm_lab.status import Status
from lstm_lab.sweep.mlflow_runs import check_store, end_parent, start_parent
from lstm_lab.validation import check_folder_settings, check_n_trials

log = logging.getLogger(__name__)


class RunFolders(Callback):
    """Claims and locks every run's and sweep's folder (after the checks that may refuse the
    command, so a refused one leaves none), makes a sweep's MLflow parent run in it, and at the
    sweep's end writes summary.csv, summary.md and comparison.png, then records the parent.

    The summary reads the job folders, not the launcher's return values, so it works the same
    for every launcher, and a resumed Optuna search is summed up with its earlier trials.
    `sweep: false` keeps a sweep folder that is meant to be found again (an Optuna study).
    """

    def __init__(self, run: bool = True, sweep: bool = True) -> None:
        self.run, self.sweep = run, sweep

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        with _one_sentence():
            check_folder_settings(config)
            check_store(config)
            claim_run(config, unique=self.run)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_lab.sweep.paired import check_compare_to

        with _one_sentence():
            check_folder_settings(config)
            check_compare_to(config)  # before any job runs or any folder is made
            if "n_trials" in config.hydra.sweeper:  # an Optuna search
                check_n_trials(config.hydra.sweeper.n_trials)
            store = check_store(config)
            sweep_dir = claim_sweep(config, unique=self.sweep)
            if store is not None and not is_other_rank():
                start_parent(config, sweep_dir, store)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            with _one_sentence():
                lock(Path(config.hydra.runtime.output_dir), "a sweep job")

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            unlock(Path(config.hydra.runtime.output_dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_other_rank():
            return  # DDP ranks 1, 2, ... re-run the sweep's command; rank 0 sums it up
        summarize(config)
        end_parent(config, Path(config.hydra.sweep.dir).absolute())


@contextlib.contextmanager
def _one_sentence():  # noqa: ANN202
    """A refusal inside a Hydra callback ends the command in one sentence, as everywhere."""
    try:
        yield
    except ConfigError as error:
        discard_refused_run()
        report(error)
        sys.exit(2)


def summarize(config: DictConfig) -> None:
    """summary.md, summary*.csv, comparison.png (and pareto.png) of the sweep, printed."""
    # Imported here: every run loads this callback, only a multirun's end uses them.
    from lstm_lab.sweep.jobs import read_jobs
    from lstm_lab.sweep.plot import plot_comparison
    from lstm_lab.sweep.summary import write_summary

    sweep_dir = Path(config.hydra.sweep.dir).resolve()
    jobs = read_jobs(sweep_dir)
    if not jobs:
        return
    metric = config.get("optimized_metric") or "val/best"
    direction = config.hydra.sweeper.get("direction")  # set by an Optuna search
    objectives = []
    if OmegaConf.is_list(metric) and OmegaConf.is_list(direction):
        # A multi-objective search: the tables and figure use its first metric.
        objectives = list(zip(metric, direction, strict=True))
        metric, direction = metric[0], direction[0]
    text = write_summary(sweep_dir, jobs, metric, config.get("compare_to"))
    outputs = "summary.md, summary*.csv"
    if objectives:
        from lstm_lab.sweep.pareto import write_pareto

        text += write_pareto(sweep_dir, jobs, objectives)
        outputs += ", pareto.png"
    try:
        plot_comparison(jobs, metric, sweep_dir / "comparison.png", sweep_dir.name, direction)
        outputs += ", comparison.png"
    except Exception:
        # The tables are written already; a figure that cannot be drawn must not hide them.
        log.exception("Could not draw comparison.png")
    print(f"\n{text}\nSweep dir: {sweep_dir}\n  {outputs}", flush=True)
    # An interrupted job did not fail: the summary tells how to continue it.
    failed = [job for job in jobs if not job.status.has_result and job.status != Status.INTERRUPTED]
    if failed:
        log.warning(
            "%d of %d jobs failed: %s (errors in summary.md)",
            len(failed),
            len(jobs),
            ", ".join(job.folder.name for job in failed),
        )
