"""The `hydra/sweeper=optuna` and `hydra/sweeper/sampler=...` config groups of our Optuna sweeper.

The names and fields follow hydra-optuna-sweeper's, so a search config written for that
plugin (`override hydra/sweeper/sampler: tpe`, `sampler.seed`, `direction: [minimize, ...]`,
`custom_search_space`) runs here unchanged. A sampler field left at None takes Optuna's own
default, so these nodes never pin a default that a newer Optuna changed.
"""

# No `from __future__ import annotations`: Hydra's plugin scan runs this module outside
# sys.modules, where dataclasses cannot resolve string annotations.
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

# `Optional[...]`, not `X | None`: OmegaConf's structured configs read these annotations.
# ruff: noqa: UP045


@dataclass
class TPESamplerConf:
    """hydra/sweeper/sampler=tpe: optuna.samplers.TPESampler (one or several objectives)."""

    _target_: str = "optuna.samplers.TPESampler"
    seed: Optional[int] = None
    consider_prior: Optional[bool] = None
    prior_weight: Optional[float] = None
    consider_magic_clip: Optional[bool] = None
    consider_endpoints: Optional[bool] = None
    n_startup_trials: Optional[int] = None
    n_ei_candidates: Optional[int] = None
    multivariate: Optional[bool] = None
    group: Optional[bool] = None
    warn_independent_sampling: Optional[bool] = None
    constant_liar: Optional[bool] = None


@dataclass
class MOTPESamplerConf(TPESamplerConf):
    """hydra/sweeper/sampler=motpe: Optuna 4 folded MOTPESampler into TPESampler."""


@dataclass
class RandomSamplerConf:
    """hydra/sweeper/sampler=random: optuna.samplers.RandomSampler."""

    _target_: str = "optuna.samplers.RandomSampler"
    seed: Optional[int] = None


@dataclass
class CmaEsSamplerConf:
    """hydra/sweeper/sampler=cmaes: optuna.samplers.CmaEsSampler (needs the cmaes package)."""

    _target_: str = "optuna.samplers.CmaEsSampler"
    seed: Optional[int] = None
    x0: Optional[dict[str, Any]] = None
    sigma0: Optional[float] = None
    n_startup_trials: Optional[int] = None
    warn_independent_sampling: Optional[bool] = None
    consider_pruned_trials: Optional[bool] = None
    restart_strategy: Optional[str] = None
    popsize: Optional[int] = None
    inc_popsize: Optional[int] = None
    use_separable_cma: Optional[bool] = None
    with_margin: Optional[bool] = None
    lr_adapt: Optional[bool] = None


@dataclass
class NSGAIISamplerConf:
    """hydra/sweeper/sampler=nsgaii: optuna.samplers.NSGAIISampler (multi-objective)."""

    _target_: str = "optuna.samplers.NSGAIISampler"
    seed: Optional[int] = None
    population_size: Optional[int] = None
    mutation_prob: Optional[float] = None
    crossover_prob: Optional[float] = None
    swapping_prob: Optional[float] = None


@dataclass
class QMCSamplerConf:
    """hydra/sweeper/sampler=qmc: optuna.samplers.QMCSampler (Sobol or Halton points)."""

    _target_: str = "optuna.samplers.QMCSampler"
    seed: Optional[int] = None
    qmc_type: Optional[str] = None
    scramble: Optional[bool] = None
    warn_asynchronous_seeding: Optional[bool] = None
    warn_independent_sampling: Optional[bool] = None


@dataclass
class GridSamplerConf:
    """hydra/sweeper/sampler=grid: optuna.samplers.GridSampler over the choice/range params."""

    _target_: str = "optuna.samplers.GridSampler"
    seed: Optional[int] = None


@dataclass
class GPSamplerConf:
    """hydra/sweeper/sampler=gp: optuna.samplers.GPSampler (Gaussian-process Bayesian search)."""

    _target_: str = "optuna.samplers.GPSampler"
    seed: Optional[int] = None
    n_startup_trials: Optional[int] = None
    deterministic_objective: Optional[bool] = None
    warn_independent_sampling: Optional[bool] = None


SAMPLERS = {
    "tpe": TPESamplerConf,
    "motpe": MOTPESamplerConf,
    "random": RandomSamplerConf,
    "cmaes": CmaEsSamplerConf,
    "nsgaii": NSGAIISamplerConf,
    "qmc": QMCSamplerConf,
    "grid": GridSamplerConf,
    "gp": GPSamplerConf,
}


@dataclass
class OptunaSweeperConf:
    """Settings of `hydra/sweeper=optuna`; configs/hparams_search/*.yaml fill them in."""

    _target_: str = "hydra_plugins.lstm_lab_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    defaults: list[Any] = field(default_factory=lambda: [{"sampler": "tpe"}])
    # The sweeper builds the sampler itself, seeded after the trials already stored.
    _recursive_: bool = False
    # minimize | maximize, or a list of them for several objectives (optimized_metric a list).
    direction: Any = "minimize"
    study_name: Optional[str] = "${name}"
    # The study lives beside its trials, so re-running the same command resumes it, and the
    # same command started again in another terminal joins it as a second worker.
    storage: Optional[str] = "sqlite:///${hydra.sweep.dir}/optuna.db"
    # Total finished trials the study should hold, over all workers; a re-run only runs the
    # missing ones.
    n_trials: int = 20
    # Trials launched together by one worker (in parallel with hydra/launcher=joblib).
    n_jobs: int = 1
    # Filled by the hydra/sweeper/sampler group (tpe unless a config picks another).
    sampler: Any = MISSING
    # key: choice(...) | range(...) | interval(...) | tag(log, interval(...)) | tag(int, ...)
    params: Optional[dict[str, str]] = field(default_factory=dict)
    # Dotted path of a function (cfg, trial) -> None that suggests dependent parameters.
    custom_search_space: Optional[str] = None
    # none | median | hyperband | successive_halving: stop unpromising trials at a validation.
    pruner: str = "none"
    # Training steps before a trial can be pruned (median: n_warmup_steps; hyperband and
    # successive_halving: min_resource, the first rung).
    pruner_warmup_steps: int = 100
    # median: trials that run to the end before any is pruned.
    pruner_startup_trials: int = 5
    # hyperband and successive_halving: keep 1 in reduction_factor trials at each rung.
    pruner_reduction_factor: int = 3
    # Seconds between a worker's heartbeats; a trial silent for grace_period seconds (its
    # worker was killed) is failed and run again once.
    heartbeat_interval: int = 10
    grace_period: int = 60
    # Stop the search when more than this fraction of finished trials failed (null: never).
    max_failure_rate: Optional[float] = None
    # hydra-optuna-sweeper 1.1's dict form of the space; refused with a pointer to `params`.
    search_space: Optional[dict[str, Any]] = None


store = ConfigStore.instance()
store.store(group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="lstm_lab")
# Plain dicts, not typed nodes: a search config's sampler settings (say TPE's
# n_startup_trials) must still compose when the command line picks another sampler; the
# sweeper then sets aside, with a warning, what that sampler does not take.
for _name, _node in SAMPLERS.items():
    store.store(
        group="hydra/sweeper/sampler", name=_name, node=asdict(_node()), provider="lstm_lab"
    )
