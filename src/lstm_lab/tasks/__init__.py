"""Tasks: what an experiment reports beyond the model's own test step (extra metrics, the
run's PNG, eval.py's report), chosen by config (`task=`) so the entry points know no task."""

from lstm_lab.tasks.base import Task
from lstm_lab.tasks.next_value import NextValueTask
from lstm_lab.tasks.step_labels import StepLabelsTask

__all__ = ["NextValueTask", "StepLabelsTask", "Task"]
