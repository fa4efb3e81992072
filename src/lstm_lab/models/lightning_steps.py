"""The one place lstm-lab touches Lightning's private loop state (tested against upgrades).

A module that takes K optimizer steps in one Lightning batch (`model.steps_per_execution`)
must tell Lightning's fit loop it did, or validation, logging and checkpoint intervals, the
loggers' x-axis and the progress bar would count Lightning batches. Lightning has no public
way to say so; tests/test_steps_per_execution.py checks these names on every install.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

# What this module reads or writes, for the upgrade test.
PRIVATE_STATE = (
    "fit_loop.epoch_loop.batch_progress",
    "fit_loop.epoch_loop._batches_that_stepped",
    "dataloader_iter.data_fetcher._batch_idx",
)


def count_extra_steps(trainer: pl.Trainer, dataloader_iter: Any, extra: int) -> None:
    """Lightning counted one batch for a call that took `1 + extra` optimizer steps."""
    loop = trainer.fit_loop.epoch_loop
    loop.batch_progress.increment_by(extra)
    loop._batches_that_stepped += extra
    # The batch_idx callbacks get: the optimizer step's (the progress bar's count, also resumed).
    dataloader_iter.data_fetcher._batch_idx = trainer.global_step - 1


def missing_private_state(trainer: pl.Trainer, dataloader_iter: Any) -> list[str]:
    """The names in PRIVATE_STATE this Lightning no longer has (empty on a supported one)."""
    roots = {"fit_loop": trainer.fit_loop, "dataloader_iter": dataloader_iter}
    missing = []
    for name in PRIVATE_STATE:
        root, *path = name.split(".")
        node = roots[root]
        for part in path:
            if not hasattr(node, part):
                missing.append(name)
                break
            node = getattr(node, part)
    return missing
