"""OptunaSweeper: each trial is a Hydra job; the study is stored, shared, resumed and summed up.

Differences from hydra-optuna-sweeper 1.3 (which needs optuna<3):
- `n_trials` is the study's total: re-running the same command runs only the missing trials,
  and the same command started in several terminals (or SLURM jobs) runs as several workers
  on one study, each asking for the next trial when it is free;
- a trial whose worker died (no heartbeat for `grace_period` s) is failed and run again once;
- job numbers are trial numbers, so trial folders never collide;
- a failed trial is recorded as failed (with its error) and the search goes on;
- trials can be pruned: the job reports its validation loss to the study (see
  lstm_lab/sweep/pruning.py), whatever launcher runs it;
- the sampler's seed is offset by the number of trials already stored, so neither a resumed
  search nor a second worker draws the same parameters again.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import get_class, get_method, instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.storages import fail_stale_trials
from optuna.trial import TrialState

# Importing the config registers hydra/sweeper=optuna and hydra/sweeper/sampler=....
from hydra_plugins.lstm_lab_optuna_sweeper.config import OptunaSweeperConf  # noqa: F401
from hydra_plugins.lstm_lab_optuna_sweeper.space import (
    AskTellGridSampler,
    as_run,
    format_value,
    grid,
    search_space,
)
from hydra_plugins.lstm_lab_optuna_sweeper.study import (
    SearchConfigError,
    directions,
    open_storage,
    pruner_of,
)
from hydra_plugins.lstm_lab_optuna_sweeper.workers import (
    FINISHED,
    WORKER,
    Heartbeat,
    claim_lock,
    counted,
    retried,
    retry_once,
)
from lstm_lab.errors import ConfigError
from lstm_lab.status import Status
from lstm_lab.validation import check_n_trials

log = logging.getLogger(__name__)
# Optuna's INFO lines ("Using an existing study ...", "Trial 3 finished ...") repeat what the
# sweeper reports itself, in its own words; its warnings still show.
optuna.logging.set_verbosity(optuna.logging.WARNING)

# Seconds between a waiting worker's looks at the study: it exits (and writes the summary)
# at most this long after the last trial ends; a look is one small sqlite read.
WAIT_POLL = 1.0
# Study attribute listing the fixed overrides every trial of the study ran with.
FIXED = "fixed_overrides"

# The job's callback that reports to the pruner (listed in configs/hparams_search/*.yaml).
PRUNING_CALLBACK = "lstm_lab.sweep.pruning.OptunaPruning"


class OptunaSweeper(Sweeper):
    """Hydra sweeper running an Optuna study whose trials are Hydra jobs."""

    def __init__(
        self,
        direction: Any,
        study_name: str | None,
        storage: str | None,
        n_trials: int,
        n_jobs: int,
        sampler: Any,
        params: dict[str, str] | None,
        custom_search_space: str | None = None,
        pruner: str = "none",
        pruner_warmup_steps: int = 0,
        pruner_startup_trials: int = 5,
        pruner_reduction_factor: int = 3,
        heartbeat_interval: int = 10,
        grace_period: int = 60,
        max_failure_rate: float | None = None,
        search_space: Any = None,
    ) -> None:
        if search_space:
            raise SearchConfigError(
                "hydra.sweeper.search_space (hydra-optuna-sweeper 1.1's form) is not supported: "
                "write each dimension in hydra.sweeper.params, e.g. x: interval(-5.0, 5.0)."
            )
        try:  # lstm-lab's callback checks it before any folder; an app of its own, here
            check_n_trials(n_trials)
        except ConfigError as error:
            from lstm_lab.errors import report

            report(error)
            sys.exit(2)
        self.directions = directions(direction)
        self.study_name = study_name or "optuna"
        self.storage = storage
        self.n_trials = n_trials
        self.n_jobs = max(1, n_jobs)
        self.sampler_cfg = dict(
            (OmegaConf.to_container(sampler) if OmegaConf.is_config(sampler) else sampler) or {}
        )
        self.params = dict(params or {})
        self.custom_search_space = get_method(custom_search_space) if custom_search_space else None
        self.pruning = OmegaConf.create(
            {
                "pruner": pruner,
                "pruner_warmup_steps": pruner_warmup_steps,
                "pruner_startup_trials": pruner_startup_trials,
                "pruner_reduction_factor": pruner_reduction_factor,
            }
        )
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.max_failure_rate = max_failure_rate
        self.total = n_trials  # n_trials, or fewer when a grid has fewer points
        self.ignored: set[str] = set()  # sampler settings the chosen sampler does not take
        self.config: DictConfig | None = None
        self.launcher: Any = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    # -- the study ---------------------------------------------------------------------------

    def _check_pruning(self) -> None:
        assert self.config is not None
        if self.pruning.pruner == "none":
            return
        if len(self.directions) > 1:
            raise SearchConfigError(
                f"hydra.sweeper.pruner={self.pruning.pruner} cannot prune a multi-objective "
                "study (Optuna prunes on one reported value): set hydra.sweeper.pruner=none."
            )
        if self.storage is None:
            raise SearchConfigError(
                "Pruning needs a stored study the jobs can report to: set hydra.sweeper.storage "
                "(e.g. sqlite:///${hydra.sweep.dir}/optuna.db) or hydra.sweeper.pruner=none."
            )
        targets = [
            OmegaConf.select(c, "_target_") for c in (self.config.get("callbacks") or {}).values()
        ]
        if PRUNING_CALLBACK not in targets:
            raise SearchConfigError(
                f"hydra.sweeper.pruner={self.pruning.pruner} needs the trials to report: add "
                f"`callbacks: {{optuna_pruning: {{_target_: {PRUNING_CALLBACK}, output_dir: "
                "${paths.output_dir}}}` to the search config, as configs/hparams_search/ do."
            )

    def _check_metrics(self) -> None:
        metric = OmegaConf.select(self.config, "optimized_metric", default=None)
        if metric is None:
            # As hydra-optuna-sweeper: the objectives are what the task function returns, a
            # number or one per direction; a trial returning anything else fails (see _tell).
            return
        n = len(metric) if OmegaConf.is_list(metric) else 1
        if n != len(self.directions):
            raise SearchConfigError(
                f"optimized_metric names {n} metric(s) but hydra.sweeper.direction has "
                f"{len(self.directions)}: give one direction per metric, e.g. "
                "hydra.sweeper.direction=[minimize,minimize]."
            )

    def _open_study(self) -> optuna.Study:
        assert self.config is not None
        storage = open_storage(self.storage, self.heartbeat_interval, self.grace_period)
        max_steps = OmegaConf.select(self.config, "trainer.max_steps", default=None)
        study = optuna.create_study(
            study_name=self.study_name,
            storage=storage,
            directions=self.directions,
            pruner=pruner_of(self.pruning, max_steps),
            load_if_exists=True,
        )
        stored = [d.name.lower() for d in study.directions]
        if stored != self.directions:
            raise SearchConfigError(
                f"Study {self.study_name!r} in {self.storage} was created to "
                f"{', '.join(stored)}; use another hydra.sweeper.study_name."
            )
        return study

    def _sampler(self, study: optuna.Study, space: dict[str, BaseDistribution]) -> Any:
        cfg = {k: v for k, v in self.sampler_cfg.items() if v is not None}
        if not cfg:
            return None
        target = cfg["_target_"]
        if cfg.get("seed") is not None and not target.endswith(("QMCSampler", "GridSampler")):
            # A resumed search, or the next worker, must not draw the first parameters again.
            # QMC and grid keep their seed: it fixes the order of their points, and they take
            # the next unvisited one from the study.
            cfg["seed"] = int(cfg["seed"]) + len(study.trials)
        accepted = inspect.signature(get_class(target)).parameters
        for key in [k for k in cfg if k != "_target_" and k not in accepted]:
            if key not in self.ignored:
                log.warning("hydra.sweeper.sampler.%s is not a setting of %s; ignored", key, target)
            self.ignored.add(key)
            del cfg[key]
        if target.endswith("GridSampler"):
            cfg["_target_"] = f"{AskTellGridSampler.__module__}.AskTellGridSampler"
            cfg["search_space"] = grid(space)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)  # QMC, GP: experimental
                return instantiate(cfg, _convert_="all")
        except Exception as error:
            cause = error.__cause__ or error
            raise SearchConfigError(
                f"hydra.sweeper.sampler ({target}) cannot be built: {cause}; check its settings "
                "against Optuna's documentation of that sampler."
            ) from None

    def _claim(
        self, study: optuna.Study, space: dict[str, BaseDistribution], sweep_dir: Path
    ) -> tuple[list[optuna.Trial], int, int]:
        """Ask for this worker's next trials; also returns the finished and running counts."""
        with claim_lock(sweep_dir):
            if self.heartbeat_interval and self.storage is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExperimentalWarning)
                    fail_stale_trials(study)
                self._retry_unclaimed(study)
            finished, running = counted(study.get_trials(deepcopy=False))
            n = min(self.n_jobs, self.total - finished - running)
            trials = []
            for _ in range(max(n, 0)):
                study.sampler = self._sampler(study, space) or study.sampler
                trial = study.ask(space)
                if self.custom_search_space is not None:
                    self.custom_search_space(self.config, trial)
                if self.heartbeat_interval and self.storage is not None:
                    study._storage.record_heartbeat(trial._trial_id)
                trial.set_user_attr("worker", WORKER)
                trials.append(trial)
        return trials, finished, running

    def _retry_unclaimed(self, study: optuna.Study) -> None:
        # A RUNNING trial no worker claimed (an older sweeper's, or one asked by hand) has no
        # heartbeat for Optuna to watch: it was interrupted, so it runs again now.
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        for trial in running:
            if "worker" not in trial.user_attrs:
                log.warning("Trial %d was interrupted; running its parameters again", trial.number)
                frozen = study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
                retry_once(study, frozen)

    # -- the search --------------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        # Atomic: a second worker starting now reads it to check it runs the same sweep.
        tmp = sweep_dir / f".multirun.{os.getpid()}.yaml"
        OmegaConf.save(self.config, tmp)
        os.replace(tmp, sweep_dir / "multirun.yaml")
        space, fixed = search_space(self.params, arguments)
        if not space and self.custom_search_space is None:
            raise SearchConfigError(
                "The search space is empty; set hydra.sweeper.params (see configs/hparams_search/)."
            )
        self._check_pruning()
        self._check_metrics()
        self.total = self.n_trials
        if str(self.sampler_cfg.get("_target_", "")).endswith("GridSampler"):
            self.total = min(self.n_trials, math.prod(len(v) for v in grid(space).values()))
        with claim_lock(sweep_dir):  # two workers starting together create one study
            study = self._open_study()
        self._check_fixed(study, fixed)
        finished, running = counted(study.get_trials(deepcopy=False))
        log.info(
            "Optuna study %r (%s): %d of %d trials done, %d running elsewhere",
            self.study_name,
            self.storage,
            finished,
            self.total,
            running,
        )
        if finished >= self.total and not running:
            log.warning(
                "Optuna study %r in %s is complete (%d of %d trials), so this command trains "
                "nothing and reports the study's best again. To run more trials, set "
                "hydra.sweeper.n_trials=%d; to search with other settings (pruner, sampler, "
                "params), start a new study with hydra.sweeper.study_name=<new name>.",
                self.study_name,
                self.storage,
                finished,
                self.total,
                2 * self.total,
            )
        returns: list[Sequence[JobReturn]] = []
        waiting_for = 0
        while True:
            trials, finished, running = self._claim(study, space, sweep_dir)
            if trials:
                returns.append(self._run(study, trials, fixed))
                self._check_failures(study)
                continue
            if not running:
                break
            # Other workers hold the last trials: wait, to retry one if its worker dies and to
            # write the summary with every trial in it.
            if running != waiting_for:
                log.info("Waiting for %d trial(s) running in other workers", running)
                waiting_for = running
            time.sleep(WAIT_POLL)
        self._report_best(study, fixed, sweep_dir)
        return returns

    def _check_fixed(self, study: optuna.Study, fixed: list[str]) -> None:
        """A study's trials share their fixed overrides: another budget would mix results."""
        from lstm_lab.errors import report

        stored = study.user_attrs.get(FIXED)
        if stored is None:
            study.set_user_attr(FIXED, sorted(fixed))
            return
        if sorted(stored) != sorted(fixed):
            report(
                f"Optuna study {self.study_name!r} in {self.storage} was run with "
                f"{' '.join(stored) or 'no fixed overrides'}, this command sets "
                f"{' '.join(sorted(fixed)) or 'none'}: repeat its overrides to continue it, or "
                "start a new study with hydra.sweeper.study_name=<new name>."
            )
            sys.exit(2)

    def _run(
        self, study: optuna.Study, trials: list[optuna.Trial], fixed: list[str]
    ) -> Sequence[JobReturn]:
        overrides = [
            fixed + [f"{name}={format_value(v)}" for name, v in trial.params.items()]
            for trial in trials
        ]
        beating = self.heartbeat_interval and self.storage is not None
        try:
            if beating:
                ids = [trial._trial_id for trial in trials]
                with Heartbeat(study._storage, ids, self.heartbeat_interval):
                    results = self._launch(trials, overrides)
            else:
                results = self._launch(trials, overrides)
        except BaseException:
            # Interrupted (Ctrl-C): queue these trials again now instead of after grace_period.
            for trial in trials:
                frozen = study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                retry_once(study, frozen)
            raise
        for trial, result in zip(trials, results, strict=True):
            self._tell(study, trial, result)
        return results

    def _launch(
        self, trials: list[optuna.Trial], overrides: list[list[str]]
    ) -> Sequence[JobReturn]:
        numbers = [trial.number for trial in trials]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            # Job numbers are trial numbers: folders of other workers and invocations stay
            # apart, and a job finds its trial by its number (lstm_lab/sweep/pruning.py).
            return self.launcher.launch(overrides, initial_job_idx=numbers[0])
        results: list[JobReturn] = []
        for number, job in zip(numbers, overrides, strict=True):
            results.extend(self.launcher.launch([job], initial_job_idx=number))
        return results

    def _values(self, value: Any) -> list[float] | None:
        """The objectives in a task function's return value (a number, or a sequence of one
        per direction, as hydra-optuna-sweeper takes them), or None."""
        values = (
            list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        )
        if len(values) != len(self.directions):
            return None
        try:
            numbers = [float(v) for v in values if not isinstance(v, str | bool)]
        except (TypeError, ValueError):
            return None
        if len(numbers) != len(values) or any(math.isnan(v) for v in numbers):
            return None
        return numbers

    def _tell(self, study: optuna.Study, trial: optuna.Trial, result: JobReturn) -> None:
        job_dir = OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir") or ""
        trial.set_user_attr("job_dir", job_dir)
        value = result._return_value if result.status == JobStatus.COMPLETED else None
        values = self._values(value)
        if values is not None:
            study.tell(trial, values)
            params = {k: as_run(v) for k, v in trial.params.items()}
            shown = ", ".join(f"{v:.6g}" for v in values)
            log.info("Trial %d: %s with %s", trial.number, shown, params)
            return
        # The job's pruning callback marks a pruned trial in the study, whatever process ran it.
        attrs = study._storage.get_trial_user_attrs(trial._trial_id)
        if "pruned_at_step" in attrs:
            study.tell(trial, state=TrialState.PRUNED)
            log.info("Trial %d: pruned at step %d", trial.number, attrs["pruned_at_step"])
            return
        if result.status == JobStatus.FAILED:
            error = f"{type(value).__name__}: {value}"
        else:
            n = len(self.directions)
            expected = "a number" if n == 1 else f"{n} numbers"
            error = f"the job returned {value!r}, not {expected} (see {job_dir}/metrics.json)"
        trial.set_user_attr("error", error)
        log.warning("Trial %d failed: %s", trial.number, error)
        study.tell(trial, state=TrialState.FAIL)

    def _check_failures(self, study: optuna.Study) -> None:
        if self.max_failure_rate is None:
            return
        trials = study.get_trials(deepcopy=False, states=FINISHED)
        again = retried(trials)
        done = [t for t in trials if t.number not in again]
        failed = sum(t.state == TrialState.FAIL for t in done)
        if done and failed / len(done) > self.max_failure_rate:
            raise SearchConfigError(
                f"{failed} of {len(done)} trials failed, more than hydra.sweeper."
                f"max_failure_rate={self.max_failure_rate}; see the failed trials' metrics.json."
            )

    # -- the report --------------------------------------------------------------------------

    def _trial_entry(self, trial: optuna.trial.FrozenTrial, fixed: list[str]) -> dict[str, Any]:
        metric = OmegaConf.select(self.config, "optimized_metric", default=None)
        if metric is None and len(self.directions) > 1:  # objectives from the return value
            names = [f"objective_{i}" for i in range(len(self.directions))]
        else:
            names = list(metric) if OmegaConf.is_list(metric) else [metric or "value"]
        entry: dict[str, Any] = {"trial": trial.number}
        if len(self.directions) == 1:
            entry["value"] = trial.value
        else:
            entry["values"] = dict(zip(names, trial.values, strict=False))
        entry["params"] = {k: as_run(v) for k, v in trial.params.items()}
        entry["overrides"] = fixed + [f"{k}={format_value(v)}" for k, v in trial.params.items()]
        entry["job_dir"] = trial.user_attrs.get("job_dir", "")
        return entry

    def _report_best(self, study: optuna.Study, fixed: list[str], sweep_dir: Path) -> None:
        trials = study.get_trials(deepcopy=False)
        states = [t.state for t in trials]
        metric = OmegaConf.select(self.config, "optimized_metric", default=None)
        summary: dict[str, Any] = {
            "study_name": self.study_name,
            "storage": self.storage,
            "direction": self.directions[0] if len(self.directions) == 1 else self.directions,
            "metric": OmegaConf.to_container(metric) if OmegaConf.is_list(metric) else metric,
            "trials": {
                "total": len(trials),
                "complete": states.count(TrialState.COMPLETE),
                Status.PRUNED.value: states.count(TrialState.PRUNED),
                Status.FAILED.value: states.count(TrialState.FAIL),
            },
        }
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if complete and len(self.directions) == 1:
            summary["best"] = self._trial_entry(study.best_trial, fixed)
        elif complete:
            front = sorted(study.best_trials, key=lambda t: t.number)
            summary["pareto_front"] = [self._trial_entry(t, fixed) for t in front]
        path = sweep_dir.resolve() / "best_params.yaml"
        # Several workers may finish together: write, then rename, so no reader sees half.
        tmp = path.with_name(f".best_params.{os.getpid()}.yaml")
        OmegaConf.save(OmegaConf.create(summary), tmp)
        os.replace(tmp, path)
        if not complete:
            log.warning("No trial completed yet; nothing to call best (%s)", path)
            return
        if "best" in summary:
            best = summary["best"]
            print(
                f"\nBest of {len(complete)} completed trials: trial {best['trial']}, "
                f"{summary['metric'] or 'value'} = {best['value']:.6g}\n"
                f"  {' '.join(f'{k}={v}' for k, v in best['params'].items())}\n"
                f"  job: {best['job_dir']}\n  saved to {path}",
                flush=True,
            )
            return
        lines = [f"\nPareto front of {len(complete)} completed trials:"]
        for entry in summary["pareto_front"]:
            values = ", ".join(f"{k} = {v:.4g}" for k, v in entry["values"].items())
            lines.append(f"  trial {entry['trial']}: {values}")
        print("\n".join(lines) + f"\n  saved to {path}", flush=True)
