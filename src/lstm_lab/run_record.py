"""RunRecord: the one reader and writer of a run folder's metrics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lstm_lab.io import read_bounded, write_json
from lstm_lab.status import Status

RECORD_FILE = "metrics.json"
# A record is a few dozen numbers; a bigger file is not one train.py wrote.
MAX_RECORD_BYTES = 1 << 20


class RunRecord:
    """How a run ended and what it measured: `status`, its metrics, and the error if any.

    Every ending (completed, failed, pruned, interrupted, diverged) is written here, atomically,
    so a summary, a resume, MLflow and Optuna read one record with one status type.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RECORD_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> dict[str, Any]:
        """The record as written, or {} when there is none or it is not one of ours."""
        try:
            if self.path.is_symlink():
                return {}
            # Bounded, and a FIFO in its place is refused rather than read forever.
            record = json.loads(read_bounded(self.path, MAX_RECORD_BYTES))
        except (OSError, ValueError, UnicodeDecodeError):  # ConfigError is a ValueError
            return {}
        return record if isinstance(record, dict) else {}

    @property
    def status(self) -> Status | None:
        """The recorded ending; None before the run has written one."""
        record = self.read()
        return Status.of(record["status"]) if "status" in record else None

    def write(
        self, status: Status, metrics: dict[str, Any] | None = None, error: str | None = None
    ) -> dict[str, Any]:
        """Replace the record (atomically); returns what was written."""
        record: dict[str, Any] = {k: v for k, v in (metrics or {}).items() if k != "status"}
        record["status"] = status.value
        if error:
            record["error"] = " ".join(error.split())
        write_json(self.path, record)
        return record
