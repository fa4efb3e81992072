"""Status: how a run ended, the one word metrics.json, the summary, MLflow and Optuna share."""

from __future__ import annotations

from enum import Enum

from lstm_lab.errors import TrainingDiverged


class Status(str, Enum):
    """A run's ending, as recorded in its metrics.json (`"status": "completed"`)."""

    COMPLETED = "completed"
    PRUNED = "pruned"  # a search's pruner stopped it early: a partial result, not a failure
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, preemption: resume continues it
    DIVERGED = "diverged"  # the loss became NaN or infinite
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, word: object) -> Status:
        """The status a record names; an unknown or missing word counts as failed."""
        try:
            return cls(str(word))
        except ValueError:
            return cls.FAILED

    @classmethod
    def ending(cls, error: BaseException | None) -> Status:
        """The status of a run that stopped on `error`."""
        if error is None:
            return cls.COMPLETED
        if isinstance(error, KeyboardInterrupt | SystemExit):
            return cls.INTERRUPTED
        if isinstance(error, TrainingDiverged):
            return cls.DIVERGED
        if type(error).__name__ == "TrialPruned":  # optuna's or ours, not imported for every run
            return cls.PRUNED
        return cls.FAILED

    @property
    def has_result(self) -> bool:
        """Whether its metrics count in a summary (a pruned trial's up to where it stopped)."""
        return self in (Status.COMPLETED, Status.PRUNED)

    @property
    def mlflow(self) -> str:
        """MLflow's run state."""
        return {
            Status.COMPLETED: "FINISHED",
            Status.PRUNED: "FINISHED",
            Status.INTERRUPTED: "KILLED",
        }.get(self, "FAILED")

    def optuna(self):  # noqa: ANN201 (optuna is imported only by searches)
        """Optuna's trial state."""
        from optuna.trial import TrialState

        return {
            Status.COMPLETED: TrialState.COMPLETE,
            Status.PRUNED: TrialState.PRUNED,
        }.get(self, TrialState.FAIL)
