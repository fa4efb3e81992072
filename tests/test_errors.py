"""A user mistake stops before any training with one sentence that names the value and the fix."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import run_cli

# (overrides, words the one-line message must contain): values checked where they enter.
BAD_VALUES = [
    (["data.batch_size=0"], ["data.batch_size=0", "integer >= 1"]),
    (["data.batch_size=abc"], ["data.batch_size='abc'", "integer >= 1"]),
    (["data.n_timesteps=0"], ["data.n_timesteps=0", "integer >= 1"]),
    (["data.threshold_fraction=1.0"], ["data.threshold_fraction=1.0", "(0, 1)"]),
    (["data.n_test=-5"], ["data.n_test=-5", "integer >= 1"]),
    (["experiment=stacked_lstm", "data.train_ratio=1.5"], ["data.train_ratio=1.5", "(0, 1)"]),
    (["experiment=stacked_lstm", "data.val_fraction=1"], ["data.val_fraction=1", "[0, 1)"]),
    (["experiment=stacked_lstm", "data.lookback=399"], ["data.lookback=399", "shorter lookback"]),
    (["experiment=stacked_lstm", "data.scale=minmax"], ["data.scale='minmax'", "standard, none"]),
    (["model.merge_mode=max"], ["model.merge_mode='max'", "concat, sum, mul, ave"]),
    (["model.hidden_size=0"], ["model.hidden_size=0", "integer >= 1"]),
    (["model.num_layers=0"], ["model.num_layers=0", "integer >= 1"]),
    (["model.dropout=1.5"], ["model.dropout=1.5", "[0, 1)"]),
    (["model.init=he"], ["model.init='he'", "torch, keras"]),
    (["model.optimizer.name=sgd"], ["model.optimizer.name='sgd'", "adam, adamw"]),
    (["model.optimizer.lr=-1"], ["model.optimizer.lr=-1", "> 0"]),
    (["model.scheduler.name=step"], ["model.scheduler.name='step'", "none, onecycle, cosine"]),
    (["trainer.max_steps=0"], ["trainer.max_steps=0", "integer >= 1"]),
    (
        ["trainer.max_steps=100", "trainer.val_check_interval=500"],
        ["trainer.val_check_interval=500", "between 1 and 100"],
    ),
    (["trainer.accelerator=tpu"], ["trainer.accelerator='tpu'", "auto, cpu, gpu"]),
    (["trainer.gradient_clip_val=-1"], ["trainer.gradient_clip_val=-1", ">= 0"]),
    (["trainer.gradient_clip_algorithm=max"], ["trainer.gradient_clip_algorithm='max'", "norm"]),
    (
        ["+trainer.accumulate_grad_batches=4"],
        ["trainer.accumulate_grad_batches=4", "data.batch_size"],
    ),
    (["model.steps_per_execution=0"], ["model.steps_per_execution=0", "integer >= 1"]),
    (["seed=-1"], ["seed=-1", "integer >= 0"]),
    (["num_threads=0"], ["num_threads=0", "integer >= 1"]),
]


@pytest.mark.parametrize("overrides,words", BAD_VALUES, ids=[" ".join(o) for o, _ in BAD_VALUES])
def test_bad_value_exits_2_with_one_sentence(make_cfg, tmp_path, capsys, overrides, words):
    from lstm_lab.cli import one_sentence_errors
    from lstm_lab.train import run

    cfg = make_cfg(*overrides)
    with pytest.raises(SystemExit) as exit_info:
        one_sentence_errors(run)(cfg)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    assert not list((tmp_path / "run").iterdir())  # nothing was built or written


# Mistakes caught on the command line, before Hydra, checked through the real entry point.
SLOW = pytest.mark.slow  # the same check on more inputs: `make test-all` runs them
BAD_COMMANDS = [
    (
        ["experiment=nope"],
        ["experiment=nope", "bilstm, bilstm_keras, co2, compare_directions, forecast_csv, lstm"],
    ),
    pytest.param(["trainer=tpu"], ["trainer=tpu", "cpu, ddp, default, gpu"], marks=SLOW),
    pytest.param(["data.batch_size=0"], ["data.batch_size=0", "integer >= 1"], marks=SLOW),
    (["hydra.run.dir=/proc/lstm-lab-run"], ["/proc/lstm-lab-run", "hydra.run.dir="]),
    pytest.param(["resume=/nonexistent/run"], ["resume=/nonexistent/run", "Run dir"], marks=SLOW),
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "overrides,words",
    BAD_COMMANDS,
    ids=[" ".join(getattr(c, "values", c)[0]) for c in BAD_COMMANDS],
)
def test_bad_command_exits_2_with_one_sentence(tmp_path, overrides, words):
    run_dir = tmp_path / "run"
    args = [*overrides]
    if not any(o.startswith(("hydra.run.dir=", "resume=")) for o in overrides):
        args.append(f"hydra.run.dir={run_dir}")
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    message = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(message) == 1, result.stderr[-2000:]
    for word in words:
        assert word in message[0]
    assert "Traceback" not in result.stderr
    assert not (run_dir / "metrics.json").exists()


@pytest.mark.e2e
def test_full_hydra_error_still_shows_the_traceback(tmp_path):
    result = run_cli(
        "model.hidden_size=0", f"hydra.run.dir={tmp_path}", env={"HYDRA_FULL_ERROR": "1"}
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


@pytest.mark.e2e
def test_non_finite_loss_stops_with_the_step_and_status_diverged(tmp_path):
    run_dir = tmp_path / "diverged"
    result = run_cli(
        "experiment=stacked_lstm",
        "model.optimizer.lr=1e30",
        "model.scheduler.name=none",
        "trainer.max_steps=50",
        "trainer.val_check_interval=10",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 1
    message = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(message) == 1
    assert "at step 1" in message[0] and "model.optimizer.lr" in message[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "diverged"
    assert "at step 1" in metrics["error"]


def test_divergence_after_checkpoints_keeps_the_last_good_one(make_cfg, tmp_path, monkeypatch):
    """Weights are checked before a NaN can reach a checkpoint: last.ckpt stays finite."""
    from lstm_lab.errors import TrainingDiverged
    from lstm_lab.models.regressor import LSTMRegressor
    from lstm_lab.train import train

    original = LSTMRegressor.shared_step

    def poisoned_after_25_steps(self, batch):
        # A NaN in the data after step 25 stands in for a real blow-up mid-run.
        x, y = batch
        if self.training and self.global_step >= 25:
            y = y * float("nan")
        return original(self, (x, y))

    monkeypatch.setattr(LSTMRegressor, "shared_step", poisoned_after_25_steps)
    cfg = make_cfg(
        "experiment=stacked_lstm", "trainer.max_steps=60", "trainer.val_check_interval=10"
    )
    with pytest.raises(TrainingDiverged, match="at step 25") as info:
        train(cfg)
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert str(last) in str(info.value)
    state = torch.load(last, weights_only=True)
    assert state["global_step"] == 20
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values())
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "diverged"
