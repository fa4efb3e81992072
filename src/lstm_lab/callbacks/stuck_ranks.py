"""SIGTERM ends a DDP job even while rank 0 waits in a collective for a rank that never comes."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

import pytorch_lightning as pl

log = logging.getLogger(__name__)
# Seconds Lightning's own SIGTERM handling has to end the fit; after that rank 0 is stuck, so
# the job records its ending, kills its other ranks and exits. (Killing them first would free
# rank 0 with a gloo error, which would be recorded as a failure, not as the interruption.)
GRACE = 3.0


def watch_for_sigterm(trainer: pl.Trainer, record: Callable[[str], None]) -> Callable[[], None]:
    """Start the watch on rank 0 of a multi-process fit; returns the call that stops it.

    Python runs a signal handler only when the main thread next executes bytecode, and a rank
    blocked in gloo's all-reduce never does; the C-level handler still writes the signal to a
    wakeup fd, which this thread reads.
    """
    if trainer.world_size < 2 or not trainer.is_global_zero:
        return lambda: None
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:  # not the main thread: nothing to watch
        os.close(read_fd), os.close(write_fd)
        return lambda: None
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                received = os.read(read_fd, 64)
            except OSError:
                return
            if signal.SIGTERM in received:
                break
        if done.wait(GRACE):
            return
        step = trainer.global_step
        record(f"interrupted by SIGTERM at step {step} while waiting for the other ranks")
        launcher = trainer.strategy.launcher
        if launcher is not None and hasattr(launcher, "kill"):
            launcher.kill(signal.SIGKILL)
        logging.shutdown()
        os._exit(128 + signal.SIGTERM)

    threading.Thread(target=watch, name="sigterm-watch", daemon=True).start()

    def stop() -> None:
        done.set()
        signal.set_wakeup_fd(previous)
        os.write(write_fd, b"\0")  # wake the thread so that it sees `done`
        time.sleep(0)

    return stop
