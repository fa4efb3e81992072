"""The one exception type for mistakes a user can fix by changing a value."""


class ConfigError(ValueError):
    """A bad value a user set; the entry points print its one-sentence message and exit non-zero."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the run stops before saving bad weights."""

    def __init__(self, step: int, loss: float, message: str | None = None) -> None:
        super().__init__(message or f"train/loss became {loss} at step {step}")
        self.step = step
        self.loss = loss


class TrialPruned(RuntimeError):
    """A search's pruner stopped this trial early; its metrics.json says at which step."""
