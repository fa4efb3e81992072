"""model.steps_per_execution changes the time only: same batches, steps, logs and numbers."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch
from conftest import run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lstm_lab.callbacks import progress
from lstm_lab.train import build, train

# Steps, intervals and group sizes that do not divide one another: groups end early at every
# validation and logging step.
ODD = ["trainer.max_steps=95", "trainer.val_check_interval=20", "trainer.log_every_n_steps=15"]


def scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    """A run's TensorBoard scalars but timings: tag -> [(step, value), ...]."""
    found: dict[str, list[tuple[int, float]]] = {}
    for events in sorted((run_dir / "tensorboard").rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            if not tag.startswith("time/"):
                found.setdefault(tag, []).extend(
                    (e.step, e.value) for e in accumulator.Scalars(tag)
                )
    return {tag: sorted(values) for tag, values in found.items()}


@pytest.mark.parametrize("experiment", ["stacked_lstm", "lstm"])
def test_grouped_steps_give_bitwise_the_run_of_one_step_per_batch(
    make_cfg, tmp_path, capsys, monkeypatch, experiment
):
    monkeypatch.setattr(progress, "stdout_is_terminal", lambda: True)  # the tqdm bar
    runs = {}
    for k in (1, 7):
        run_dir = tmp_path / f"k{k}"
        overrides = [f"experiment={experiment}", *ODD, "plot=false"]
        metrics = train(make_cfg(*overrides, f"model.steps_per_execution={k}", output_dir=run_dir))
        last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
        runs[k] = (metrics, last, scalars(run_dir))
        # The progress bar counts optimizer steps, whatever the group size.
        assert "95/95" in capsys.readouterr().out

    (metrics_1, last_1, scalars_1), (metrics_7, last_7, scalars_7) = runs[1], runs[7]
    drop_time = lambda m: {k: v for k, v in m.items() if not k.startswith("time/")}  # noqa: E731
    assert drop_time(metrics_7) == drop_time(metrics_1)
    assert metrics_7["train/steps"] == 95
    assert last_7["global_step"] == last_1["global_step"]
    assert last_7["loops"] == last_1["loops"]  # progress counts optimizer steps
    for name, value in last_1["state_dict"].items():
        assert torch.equal(last_7["state_dict"][name], value), name
    # Loss and learning rate logged at the same optimizer steps with the same values;
    # validation at every 20th step and at the last.
    assert scalars_7 == scalars_1
    assert [step for step, _ in scalars_7["train/loss"]] == [14, 29, 44, 59, 74, 89]
    assert [step for step, _ in scalars_7["val/loss"]] == [19, 39, 59, 79, 94]


def test_progress_bar_counts_optimizer_steps_after_a_resume(
    make_cfg, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(progress, "stdout_is_terminal", lambda: True)  # the tqdm bar
    overrides = ["experiment=stacked_lstm", *ODD, "plot=false", "model.steps_per_execution=7"]
    train(make_cfg(*overrides, output_dir=tmp_path / "first"))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 80
    capsys.readouterr()
    redraw = "callbacks.progress_bar.refresh_rate=1"
    train(make_cfg(*overrides, redraw, f"ckpt_path={last}", output_dir=tmp_path / "resumed"))
    bar = capsys.readouterr().out
    assert "95/" in bar and "15/" not in bar


class GradientNorms(pl.Callback):
    """Records the gradient norm the optimizer is about to apply, every step."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))


@pytest.mark.parametrize("clip", [None, 0.01])
def test_gradient_clip_val_bounds_every_steps_gradient_norm(make_cfg, clip):
    cfg = make_cfg(
        "experiment=lstm",
        "trainer.max_steps=30",
        "trainer.val_check_interval=30",
        f"trainer.gradient_clip_val={'null' if clip is None else clip}",
        "model.steps_per_execution=10",
        "logger=csv",
        "callbacks=none",
    )
    _, datamodule, model, trainer = build(cfg)
    norms = GradientNorms()
    trainer.callbacks.append(norms)
    trainer.fit(model, datamodule=datamodule)
    assert len(norms.norms) == 30
    if clip is None:
        assert max(norms.norms) > 0.01
    else:
        assert max(norms.norms) <= clip * (1 + 1e-5)


@pytest.mark.slow
def test_ddp_grouped_steps_match_one_step_per_batch(tmp_path):
    """Under DDP every step's gradients are averaged over both ranks, grouped or not."""
    metrics = {}
    for k in (1, 4):
        run_dir = tmp_path / f"k{k}"
        result = run_cli(
            "experiment=stacked_lstm",
            "trainer=ddp",
            "debug=fast",
            "plot=false",
            f"model.steps_per_execution={k}",
            f"hydra.run.dir={run_dir}",
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        metrics[k] = json.loads((run_dir / "metrics.json").read_text())
        metrics[k].pop("time/fit_seconds")
    assert metrics[4] == metrics[1] and metrics[4]["status"] == "completed"


def test_the_lightning_state_grouped_steps_adjust_still_exists(make_cfg):
    """Fails loudly on a Lightning upgrade that renames what models/lightning_steps.py touches."""
    from lstm_lab.models.lightning_steps import missing_private_state

    _, datamodule, model, trainer = build(make_cfg("experiment=lstm", "debug=fast", "plot=false"))
    seen = []
    original = type(model).training_step

    def training_step(self, dataloader_iter):
        seen.append(missing_private_state(self.trainer, dataloader_iter))
        return original(self, dataloader_iter)

    model.training_step = training_step.__get__(model)
    trainer.fit(model, datamodule=datamodule)
    assert seen and seen[0] == [], f"Lightning {pl.__version__} lacks {seen[0]}"
