"""A job's logged curves, read back from its TensorBoard event files, CSV log or MLflow run."""

from __future__ import annotations

import csv
import logging
from pathlib import Path


def read_curve(folder: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) pairs of scalar `tag` from `folder`'s TensorBoard, CSV or MLflow log, or []."""
    tensorboard = folder / "tensorboard"
    if any(tensorboard.glob("events.out.tfevents.*")):
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        # Its reader logs every event file it moves to at INFO; the sweep log needs none of it.
        logging.getLogger("tensorboard").setLevel(logging.WARNING)
        events = EventAccumulator(str(tensorboard), size_guidance={"scalars": 0})
        events.Reload()
        if tag in events.Tags()["scalars"]:
            return [(event.step, event.value) for event in events.Scalars(tag)]
    metrics_csv = folder / "csv" / "metrics.csv"
    if metrics_csv.is_file():
        with metrics_csv.open() as f:
            return [
                (int(row["step"]), float(row[tag])) for row in csv.DictReader(f) if row.get(tag)
            ]
    mlflow_run = folder / "mlflow_run.json"  # logger=mlflow alone
    if mlflow_run.is_file():
        from lstm_lab.tracking import logged_curve

        return logged_curve(mlflow_run, tag)
    return []
