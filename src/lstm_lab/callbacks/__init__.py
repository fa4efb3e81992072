"""Lightning callbacks the configs list: checkpoints, run status and progress."""

from lstm_lab.callbacks.checkpoint import RunCheckpoint
from lstm_lab.callbacks.progress import progress_bar
from lstm_lab.callbacks.run_status import RunStatus

__all__ = ["RunCheckpoint", "RunStatus", "progress_bar"]
