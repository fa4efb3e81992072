"""How a search's study is opened, by the sweeper and by a trial's job alike.

Both sides must agree on the storage (several processes write to it), on the pruner (the
job asks it whether to stop; Hyperband also tells the sampler which trials to compare) and
on the trial (the job's number is its trial number).
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, RDBStorage, RetryHeartbeatStaleTrialCallback

from lstm_lab.errors import ConfigError

DIRECTIONS = ("minimize", "maximize")


PRUNERS = ("none", "median", "hyperband", "successive_halving")
# Seconds a worker waits for the sqlite file lock: two workers write at the same moments
# (each trial's start and end), and sqlite's 5 s default fails them on a loaded machine.
SQLITE_TIMEOUT = 60


def directions(direction: Any) -> list[str]:
    """`minimize`, `maximize` or a list of them (hydra-optuna-sweeper's spelling)."""
    values = [direction] if isinstance(direction, str) else list(direction or [])
    names = [str(getattr(d, "name", d)).lower() for d in values]
    if not names or any(name not in DIRECTIONS for name in names):
        raise ConfigError(
            f"hydra.sweeper.direction={direction!r} is not minimize, maximize or a list of "
            "them, e.g. hydra.sweeper.direction=[minimize,minimize]."
        )
    return names


def open_storage(
    url: str | None, heartbeat_interval: int | None = None, grace_period: int | None = None
) -> BaseStorage | None:
    """The study's storage; with a heartbeat, a trial whose worker died is retried once."""
    if url is None:
        return None  # in memory: one process, no resume
    if not url.startswith(("sqlite:", "postgresql", "mysql", "oracle", "mssql")):
        raise ConfigError(
            f"hydra.sweeper.storage={url!r} is not a database URL: use sqlite:///<path>.db "
            "(the default), a postgresql:// or mysql:// URL, or null for an in-memory study."
        )
    engine = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if url.startswith("sqlite:") else {}
    if not heartbeat_interval:
        return RDBStorage(url, engine_kwargs=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RDBStorage(
            url,
            engine_kwargs=engine,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )


def make_pruner(
    name: str,
    warmup_steps: int,
    startup_trials: int,
    reduction_factor: int,
    max_steps: int | None = None,
) -> optuna.pruners.BasePruner:
    """Optuna's pruner for `hydra.sweeper.pruner`; steps are training steps."""
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=startup_trials, n_warmup_steps=warmup_steps
        )
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(warmup_steps, 1),
            max_resource=max_steps or "auto",
            reduction_factor=reduction_factor,
        )
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=max(warmup_steps, 1), reduction_factor=reduction_factor
        )
    raise ConfigError(
        f"hydra.sweeper.pruner={name} is not one of {', '.join(PRUNERS)}; "
        "e.g. hydra.sweeper.pruner=median."
    )


def pruner_of(sweeper: Any, max_steps: int | None) -> optuna.pruners.BasePruner:
    """The pruner a sweeper config asks for (the sweeper's own, or the one in a job's config)."""
    return make_pruner(
        str(sweeper.pruner),
        warmup_steps=int(sweeper.pruner_warmup_steps),
        startup_trials=int(sweeper.pruner_startup_trials),
        reduction_factor=int(sweeper.pruner_reduction_factor),
        max_steps=max_steps,
    )


def job_trial(sweeper: Any, number: int, max_steps: int | None) -> optuna.Trial:
    """A running trial of the search, from a job that may run in another process."""
    study = optuna.load_study(
        study_name=sweeper.study_name,
        storage=open_storage(sweeper.storage),
        pruner=pruner_of(sweeper, max_steps),
    )
    # Optuna has no public lookup of a trial by number; its own distributed examples
    # rebuild a Trial from the id the same way.
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    return optuna.Trial(study, trial_id)
