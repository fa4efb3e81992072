"""How runs log: our own lines for the terminal and train.log, without third-party noise."""

from __future__ import annotations

import logging
import os
import stat
import sys
import warnings


class ConsoleFilter(logging.Filter):
    """Keeps lines marked `file_only` (validation results a progress bar already shows,
    errors already printed on stderr) out of the terminal; train.log still gets them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False)


class RunLogFile(logging.FileHandler):
    """FileHandler for a run's train.log that never writes through a link or into a FIFO.

    A resumed run appends to the train.log in its folder, which may come from someone else:
    opened with O_NOFOLLOW, a train.log that is a symbolic link fails instead of appending
    to the file it points at (resume= refuses such a folder before this, in one sentence).
    """

    def _open(self):  # logging's one place that opens the file
        def opener(path: str, flags: int) -> int:
            fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError(f"{path} is not a regular file")
            return fd

        return open(  # noqa: SIM115 (the handler keeps it open)
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=opener
        )


def quiet_third_party() -> None:
    """Silence notices no user can act on: deprecations inside Lightning and torch."""
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="pytorch_lightning")
    warnings.filterwarnings("ignore", category=FutureWarning, module="pytorch_lightning")
    # steps_per_execution reads its batches through Lightning's `dataloader_iter` flavour on
    # purpose (models/base.py); Lightning warns about it being experimental on every run.
    warnings.filterwarnings("ignore", message=r".*`dataloader_iter`.*")
    # A resumed run continues in its own checkpoints/ folder: that it is not empty is the point.
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
    # The Optuna sweeper asks and tells trials itself (no Study.optimize) and keeps each trial's
    # heartbeat itself (hydra_plugins/lstm_lab_optuna_sweeper/workers.py); Optuna warns per trial.
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")


def stdout_is_terminal() -> bool:
    """Whether Lightning's progress bar (written to stdout) would redraw in place."""
    return sys.stdout.isatty()
