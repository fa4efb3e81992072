"""The one exception type for mistakes a user can fix by changing a value, and how one is told."""

import logging
import os
import sys

from hydra.errors import CompactHydraException


class ConfigError(CompactHydraException, ValueError):
    """A bad value a user set; the entry points print its one-sentence message and exit non-zero
    (and Hydra, when one reaches it from a sweeper, prints the sentence without a traceback)."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the run stops before saving bad weights."""

    def __init__(self, step: int, loss: float, message: str | None = None) -> None:
        super().__init__(message or f"train/loss became {loss} at step {step}")
        self.step = step
        self.loss = loss


class TrialPruned(RuntimeError):
    """A search's pruner stopped this trial early; its metrics.json says at which step."""


def report(error: Exception) -> None:
    """Print a user mistake as one line on stderr (HYDRA_FULL_ERROR=1 re-raises instead)."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise error
    if any(isinstance(h, logging.FileHandler) for h in logging.getLogger().handlers):
        # Inside a run: train.log keeps the error too (the terminal has it from stderr).
        logging.getLogger("lstm_lab").error("error: %s", error, extra={"file_only": True})
    # In a terminal, start on a line of our own, whatever a progress bar left on the current one.
    start = "\n" if sys.stderr.isatty() else ""
    print(f"{start}error: {error}", file=sys.stderr, flush=True)
