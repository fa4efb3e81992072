"""The `hydra/sweeper=optuna` config group entry of lstm-lab's Optuna sweeper."""

# No `from __future__ import annotations`: Hydra's plugin scan runs this module outside
# sys.modules, where dataclasses cannot resolve string annotations.
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class OptunaSweeperConf:
    """Settings of `hydra/sweeper=optuna`; configs/hparams_search/*.yaml fill them in."""

    _target_: str = "hydra_plugins.lstm_lab_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    # The sweeper builds the sampler itself, seeded after the trials already stored.
    _recursive_: bool = False
    # minimize | maximize the value the task function returns.
    direction: str = "minimize"
    study_name: str = "${name}"
    # The study lives beside its trials, so re-running the same command resumes it.
    storage: Optional[str] = "sqlite:///${hydra.sweep.dir}/optuna.db"  # noqa: UP045
    # Total finished trials the study should hold; a re-run only runs the missing ones.
    n_trials: int = 20
    # Trials launched together (in parallel with hydra/launcher=joblib).
    n_jobs: int = 1
    sampler: Any = field(
        default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": 1234}
    )
    # key: choice(...) | range(...) | interval(...) | tag(log, interval(...)) | tag(int, ...)
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(
    group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="lstm_lab"
)
