"""The Hydra callback that sums up a multirun when its last job has finished."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


class SweepSummary(Callback):
    """Writes summary.csv, summary.md and comparison.png at the sweep root and prints the table.

    It reads the job folders, not the launcher's return values, so it works the same for
    every launcher, and a resumed Optuna search is summed up with its earlier trials.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_lab.cli import report
        from lstm_lab.errors import ConfigError
        from lstm_lab.sweep.paired import check_compare_to

        try:
            check_compare_to(config)  # before any job runs or any folder is made
        except ConfigError as error:
            report(error)
            sys.exit(2)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        # Imported here: every run loads this callback, only a multirun's end uses them.
        from lstm_lab.run_dirs import is_other_rank
        from lstm_lab.sweep.jobs import read_jobs
        from lstm_lab.sweep.plot import plot_comparison
        from lstm_lab.sweep.summary import write_summary

        if is_other_rank():
            return  # DDP ranks 1, 2, ... re-run the sweep's command; rank 0 sums it up
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
        # An interrupted job did not fail: the line above tells how to continue it.
        failed = [
            job for job in jobs if job.status not in ("completed", "pruned", "interrupted")
        ]  # status
        if failed:
            log.warning(
                "%d of %d jobs failed: %s (errors in summary.md)",
                len(failed),
                len(jobs),
                ", ".join(job.folder.name for job in failed),
            )
