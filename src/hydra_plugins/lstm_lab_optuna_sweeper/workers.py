"""What lets several workers share one study: a claim lock, heartbeats, one retry."""

from __future__ import annotations

import os
import socket
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileOpenLock
from optuna.trial import TrialState

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
# Which worker runs a trial (host:pid), recorded when it claims the trial.
WORKER = f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def claim_lock(sweep_dir: Path) -> Iterator[None]:
    """Held while a worker counts the trials and asks for new ones, so no two ask for the last.

    Optuna's own file lock for its journal storage; it works on NFS too.
    """
    lock = JournalFileOpenLock(str(sweep_dir / "optuna-claim"))
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def retried(trials: Sequence[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of interrupted trials that were queued again (they do not count as finished)."""
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def counted(trials: Sequence[optuna.trial.FrozenTrial]) -> tuple[int, int]:
    """(finished, running) trials that count toward n_trials."""
    again = retried(trials)
    finished = sum(t.state in FINISHED and t.number not in again for t in trials)
    return finished, sum(t.state == TrialState.RUNNING for t in trials)


def retry_once(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Queue an interrupted trial's parameters again, as Optuna does for a stale heartbeat."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        RetryHeartbeatStaleTrialCallback(max_retry=1)(study, trial)


class Heartbeat:
    """Records the heartbeat of a worker's running trials while their jobs run."""

    # study.optimize runs Optuna's heartbeat thread; ask/tell (needed to launch a batch of
    # trials through a Hydra launcher) leaves it to the caller.
    def __init__(self, storage: Any, trial_ids: list[int], interval: int) -> None:
        self.storage, self.trial_ids, self.interval = storage, trial_ids, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(self.interval):
            for trial_id in self.trial_ids:
                self.storage.record_heartbeat(trial_id)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
