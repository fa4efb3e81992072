"""What a run logs to TensorBoard, and how often."""

from __future__ import annotations

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
