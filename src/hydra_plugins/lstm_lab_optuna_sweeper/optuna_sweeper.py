"""OptunaSweeper: each trial is a Hydra job; the study is stored, resumed and summed up.

Differences from hydra-optuna-sweeper 1.3 (which needs optuna<3), chosen for resuming:
- `n_trials` is the study's total: re-running the same command runs only the missing trials;
- trials left running by an interrupted invocation are marked failed and re-run with the
  same parameters;
- job numbers continue the study's trial numbers, so trial folders never collide;
- a failed trial is recorded as failed (with its error) and the search goes on;
- the sampler's seed is offset by the number of trials already stored, so a resumed
  search does not draw its first parameters again.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

# Importing the config registers hydra/sweeper=optuna.
from hydra_plugins.lstm_lab_optuna_sweeper.config import OptunaSweeperConf  # noqa: F401

log = logging.getLogger(__name__)

DIRECTIONS = ("minimize", "maximize")
# Study attribute listing the trials an interrupted invocation left running.
INTERRUPTED = "interrupted_trials"
# Study attribute listing the fixed overrides every trial of the study ran with.
FIXED = "fixed_overrides"


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of a sweep override: choice, range or interval (log/int tags)."""
    sweep = override.value()
    if isinstance(sweep, ChoiceSweep):
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.identity)))
    if isinstance(sweep, RangeSweep):
        if all(isinstance(v, int) for v in (sweep.start, sweep.stop, sweep.step)):
            return IntDistribution(sweep.start, sweep.stop - sweep.step, step=sweep.step)
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.identity)))
    if isinstance(sweep, IntervalSweep):
        log_scale = "log" in sweep.tags
        if "int" in sweep.tags:
            return IntDistribution(int(sweep.start), int(sweep.end), log=log_scale)
        return FloatDistribution(sweep.start, sweep.end, log=log_scale)
    raise ValueError(
        f"{override.input_line!r} is not a search dimension; use choice(...), range(...) or "
        "interval(...), e.g. model.hidden_size=choice(16,32,64)."
    )


def search_space(
    params: dict[str, str], arguments: Sequence[str]
) -> tuple[dict[str, BaseDistribution], list[str]]:
    """Search dimensions (config `params`, then command-line sweeps) and the fixed overrides."""
    lines = [f"{key}={value}" for key, value in params.items()] + list(arguments)
    space: dict[str, BaseDistribution] = {}
    fixed: list[str] = []
    for override in OverridesParser.create().parse_overrides(lines):
        name = override.get_key_element()
        if override.is_sweep_override():
            space[name] = distribution(override)
        else:
            space.pop(name, None)  # a fixed value on the command line wins over the search
            fixed.append(override.input_line)
    return space, fixed


def format_value(value: Any) -> str:
    """A sampled value as an override; floats keep 6 significant digits for readable folders."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def as_run(value: Any) -> Any:
    """The value the job ran with (floats rounded as in its override)."""
    return float(format_value(value)) if isinstance(value, float) else value


def finished_trials(study: optuna.Study) -> int:
    """Trials that count toward n_trials: finished, and not cut short by an interruption."""
    interrupted = set(study.user_attrs.get(INTERRUPTED, []))
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return sum(t.number not in interrupted for t in study.get_trials(states=finished))


class OptunaSweeper(Sweeper):
    """Hydra sweeper running an Optuna study whose trials are Hydra jobs."""

    def __init__(
        self,
        direction: str,
        study_name: str,
        storage: str | None,
        n_trials: int,
        n_jobs: int,
        sampler: Any,
        params: dict[str, str] | None,
    ) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(
                f"hydra.sweeper.direction={direction!r} is not one of {', '.join(DIRECTIONS)}."
            )
        self.direction = direction
        self.study_name = study_name
        self.storage = storage
        self.n_trials = n_trials
        self.n_jobs = max(1, n_jobs)
        self.sampler_cfg = (
            OmegaConf.to_container(sampler) if OmegaConf.is_config(sampler) else sampler
        )
        self.params = dict(params or {})
        self.config: DictConfig | None = None
        self.launcher: Any = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _load_study(self) -> optuna.Study:
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self.storage,
            direction=self.direction,
            load_if_exists=True,
        )
        sampler_cfg = dict(self.sampler_cfg or {})
        if sampler_cfg.get("seed") is not None:
            sampler_cfg["seed"] = int(sampler_cfg["seed"]) + len(study.trials)
        if sampler_cfg:
            study.sampler = instantiate(sampler_cfg)
        return study

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        space, fixed = search_space(self.params, arguments)
        if not space:
            raise ValueError(
                "The search space is empty; set hydra.sweeper.params (see configs/hparams_search/)."
            )
        study = self._load_study()
        self._check_fixed(study, fixed)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if study.direction.name.lower() != self.direction:
            raise ValueError(
                f"Study {self.study_name!r} in {self.storage} was created to "
                f"{study.direction.name.lower()}; use another hydra.sweeper.study_name."
            )
        self._retry_interrupted(study)
        done = finished_trials(study)
        remaining = self.n_trials - done
        log.info(
            "Optuna study %r (%s): %d of %d trials done, %d to run",
            self.study_name,
            self.storage,
            done,
            self.n_trials,
            max(remaining, 0),
        )
        returns: list[Sequence[JobReturn]] = []
        while remaining > 0:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, remaining))]
            overrides = [
                fixed + [f"{name}={format_value(v)}" for name, v in trial.params.items()]
                for trial in trials
            ]
            results = self._launch(trials, overrides)
            for trial, result in zip(trials, results, strict=True):
                self._tell(study, trial, result)
            returns.append(results)
            remaining -= len(trials)
        self._report_best(study, fixed, sweep_dir)
        return returns

    def _check_fixed(self, study: optuna.Study, fixed: list[str]) -> None:
        """A study's trials share their fixed overrides: another budget would mix results."""
        from lstm_lab.cli import report

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

    def _retry_interrupted(self, study: optuna.Study) -> None:
        # One invocation per study at a time: a trial still RUNNING was left by one that died.
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        for trial in running:
            log.warning("Trial %d was interrupted; running its parameters again", trial.number)
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        if running:
            interrupted = study.user_attrs.get(INTERRUPTED, [])
            study.set_user_attr(INTERRUPTED, interrupted + [t.number for t in running])

    def _launch(
        self, trials: list[optuna.Trial], overrides: list[list[str]]
    ) -> Sequence[JobReturn]:
        numbers = [trial.number for trial in trials]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            # Job numbers are trial numbers: folders of earlier invocations stay apart.
            return self.launcher.launch(overrides, initial_job_idx=numbers[0])
        results: list[JobReturn] = []
        for number, job in zip(numbers, overrides, strict=True):
            results.extend(self.launcher.launch([job], initial_job_idx=number))
        return results

    def _tell(self, study: optuna.Study, trial: optuna.Trial, result: JobReturn) -> None:
        job_dir = OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir") or ""
        trial.set_user_attr("job_dir", job_dir)
        value = result._return_value if result.status == JobStatus.COMPLETED else None
        if isinstance(value, int | float) and not math.isnan(value):
            study.tell(trial, float(value))
            params = {k: as_run(v) for k, v in trial.params.items()}
            log.info("Trial %d: %.6g with %s", trial.number, value, params)
            return
        if result.status == JobStatus.FAILED:
            error = f"{type(value).__name__}: {value}"
        else:
            error = f"the job returned {value!r}, not a number (see {job_dir}/metrics.json)"
        trial.set_user_attr("error", error)
        log.warning("Trial %d failed: %s", trial.number, error)
        study.tell(trial, state=TrialState.FAIL)

    def _report_best(self, study: optuna.Study, fixed: list[str], sweep_dir: Path) -> None:
        trials = study.get_trials(deepcopy=False)
        states = [t.state for t in trials]
        summary: dict[str, Any] = {
            "study_name": self.study_name,
            "storage": self.storage,
            "direction": self.direction,
            "metric": OmegaConf.select(self.config, "optimized_metric", default=None),
            "trials": {
                "total": len(trials),
                "complete": states.count(TrialState.COMPLETE),
                "failed": states.count(TrialState.FAIL),
            },
        }
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if complete:
            best = study.best_trial
            summary["best"] = {
                "trial": best.number,
                "value": best.value,
                "params": {k: as_run(v) for k, v in best.params.items()},
                "overrides": fixed + [f"{k}={format_value(v)}" for k, v in best.params.items()],
                "job_dir": best.user_attrs.get("job_dir", ""),
            }
        path = sweep_dir.resolve() / "best_params.yaml"
        OmegaConf.save(OmegaConf.create(summary), path)
        if not complete:
            log.warning("No trial completed yet; nothing to call best (%s)", path)
            return
        best = summary["best"]
        print(
            f"\nBest of {len(complete)} completed trials: trial {best['trial']}, "
            f"{summary['metric'] or 'value'} = {best['value']:.6g}\n"
            f"  {' '.join(f'{k}={v}' for k, v in best['params'].items())}\n"
            f"  job: {best['job_dir']}\n  saved to {path}",
            flush=True,
        )
