"""What a run logs: TensorBoard scalars, terminal and file output, train.log."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lstm_lab.train import train


def scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    values: dict[str, list[tuple[int, float]]] = {}
    for path in sorted((run_dir / "tensorboard").glob("events.out.tfevents.*")):
        events = EventAccumulator(str(path))
        events.Reload()
        for tag in events.Tags()["scalars"]:
            values.setdefault(tag, []).extend((e.step, e.value) for e in events.Scalars(tag))
    return values


def test_loss_and_learning_rate_are_logged_every_log_every_n_steps(make_cfg, tmp_path):
    # debug=fast: 20 steps, logging every 5, validation every 10.
    train(make_cfg("experiment=bilstm", "debug=fast", "trainer=cpu", "plot=false"))
    logged = scalars(tmp_path / "run")
    assert [step for step, _ in logged["train/loss"]] == [4, 9, 14, 19]
    assert [step for step, _ in logged["train/lr"]] == [4, 9, 14, 19]
    assert all(loss > 0 for _, loss in logged["train/loss"])
    # One-cycle schedule: the rate rises from max_lr / 25, then anneals towards zero.
    rates = [lr for _, lr in logged["train/lr"]]
    assert rates[-1] < rates[0] < 0.02
    assert [step for step, _ in logged["val/loss"]] == [9, 19]


@pytest.mark.e2e
def test_train_py_from_the_repo_root_prints_plain_lines_and_writes_its_run(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli("experiment=lstm", "debug=fast", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"Run dir: {run_dir}" in result.stdout and "test/seq_acc" in result.stdout
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert 0.0 <= metrics["test/seq_acc"] <= 1.0

    # Redirected output: plain lines, no adverts, frames or third-party notices.
    output = result.stdout + result.stderr
    for noise in (
        "\r",
        "\x1b[",
        "Tip:",
        "litlogger",
        "LeafSpec",
        "GPU available",
        "TPU",
        "dataloader_iter",
    ):
        assert noise not in output, noise
    progress = [line for line in result.stdout.splitlines() if line.startswith("step ")]
    # debug=fast: 20 steps, a line at most every 10% of them (steps_per_execution groups
    # optimizer steps, so a line can only come at the end of a group).
    steps = [int(line.split()[1].split("/")[0]) for line in progress]
    assert 2 <= len(steps) <= 10 and steps == sorted(set(steps)) and steps[-1] == 20
    assert "train/loss" in progress[-1] and "val/loss" in progress[-1]

    # train.log: the run's summary line, every validation and the final table.
    text = (run_dir / "train.log").read_text()
    assert "lstm: LSTMSequenceClassifier on CumsumDataModule, 20 steps, seed 1" in text
    assert "validation at step 10: val/loss" in text and "validation at step 20:" in text
    assert "test/seq_acc" in text and "time/fit_seconds" in text


@pytest.mark.e2e
def test_a_terminal_gets_the_bar_and_an_error_starts_on_its_own_line(tmp_path):
    # A real pseudo-terminal: stdout and stderr are a TTY, as in an interactive shell.
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    from conftest import REPO_ROOT

    leader, follower = pty.openpty()
    # A window size, as a real terminal has: tqdm draws nothing in a zero-column one.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    args = ["experiment=stacked_lstm", "model.optimizer.lr=1e30", "model.scheduler.name=none"]
    process = subprocess.Popen(
        [sys.executable, "train.py", *args, "debug=fast", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO_ROOT,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 1
    os.close(leader)
    text = b"".join(chunks).decode()
    assert "Training" in text and "Epoch 0" not in text  # the bar, before the step diverges
    error_lines = [line for line in text.splitlines() if "error: train/loss became" in line]
    assert len(error_lines) == 1 and error_lines[0].startswith("error: ")


def test_the_last_progress_line_shows_the_last_validation_and_lines_carry_an_eta(make_cfg, caplog):
    caplog.set_level("INFO", logger="lstm_lab.progress")
    # debug=fast: 20 steps, a validation at steps 10 and 20; a line every 5 steps.
    train(make_cfg("experiment=lstm", "debug=fast", "plot=false", "callbacks.progress_bar.lines=4"))
    messages = [r.getMessage() for r in caplog.records if r.name == "lstm_lab.progress"]
    validations = [m for m in messages if m.startswith("validation at step ")]
    lines = [m for m in messages if m.startswith("step ")]
    assert [line.split()[1] for line in lines] == ["5/20", "10/20", "15/20", "20/20"]
    last_validation = validations[-1].split(": ", 1)[1]
    assert validations[-1].startswith("validation at step 20:")
    val_loss = last_validation.split("  ")[0]  # "val/loss 0.6..."
    assert val_loss.startswith("val/loss ") and val_loss in lines[-1]
    assert "ETA" in lines[0] and "ETA" not in lines[-1]
