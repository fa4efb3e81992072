"""Lightning callbacks the configs list: run status and progress."""

from lstm_lab.callbacks.progress import progress_bar
from lstm_lab.callbacks.run_status import RunStatus

__all__ = ["RunStatus", "progress_bar"]
