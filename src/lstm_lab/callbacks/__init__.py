"""Lightning callbacks the configs list: checkpoints, run status."""

from lstm_lab.callbacks.checkpoint import RunCheckpoint
from lstm_lab.callbacks.run_status import RunStatus

__all__ = ["RunCheckpoint", "RunStatus"]
