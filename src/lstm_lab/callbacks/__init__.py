"""Lightning callbacks the configs list: run status, progress lines."""

from lstm_lab.callbacks.run_status import RunStatus

__all__ = ["RunStatus"]
