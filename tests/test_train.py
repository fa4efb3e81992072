"""Short real trainings through the entry points, and what every run leaves behind."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import REPO_ROOT, run_cli

from lstm_lab.data import CumsumDataModule, FunctionDataModule
from lstm_lab.errors import ConfigError
from lstm_lab.models import LSTMRegressor, LSTMSequenceClassifier
from lstm_lab.train import train

EXPERIMENT_METRICS = {
    "stacked_lstm": {"test/mse", "test/mae", "test/loss"},
    "stacked_lstm_keras": {"test/mse", "test/mae", "test/loss"},
    "stacked_lstm_forecast": {"test/mse", "test/rollout_mse", "test/linear_ar/rollout_mse"},
    "lstm": {"test/acc", "test/seq_acc", "test/loss"},
    "lstm_keras": {"test/acc", "test/seq_acc", "test/loss"},
    "bilstm": {"test/acc", "test/seq_acc", "test/loss"},
    "bilstm_keras": {"test/acc", "test/seq_acc", "test/loss"},
}


@pytest.mark.parametrize("experiment", sorted(EXPERIMENT_METRICS))
def test_short_training_leaves_a_complete_run(make_cfg, tmp_path, experiment):
    cfg = make_cfg(f"experiment={experiment}", "debug=fast", "trainer=cpu")
    metrics = train(cfg)
    run = tmp_path / "run"
    assert EXPERIMENT_METRICS[experiment] <= set(metrics)
    assert json.loads((run / "metrics.json").read_text()) == metrics
    assert all(v == v for k, v in metrics.items() if k.startswith("test/"))  # no NaN
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "predictions.png").stat().st_size > 10_000
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.parametrize(
    "module_cls,experiment",
    [(LSTMSequenceClassifier, "bilstm"), (LSTMRegressor, "stacked_lstm")],
)
def test_checkpoint_loads_back_with_weights_only(make_cfg, tmp_path, module_cls, experiment):
    cfg = make_cfg(f"experiment={experiment}", "debug=fast", "trainer=cpu", "plot=false")
    metrics = train(cfg)
    path = tmp_path / "run" / "checkpoints" / "best.ckpt"
    raw = torch.load(path, weights_only=True)  # plain values only: no pickled classes
    assert raw["hyper_parameters"]["hidden_size"] == cfg.model.hidden_size
    model = module_cls.load_from_checkpoint(path, weights_only=True)
    model.eval()
    dm = (FunctionDataModule if module_cls is LSTMRegressor else CumsumDataModule)(
        **{k: v for k, v in cfg.data.items() if k != "_target_"}
    )
    x, y = dm.test
    with torch.no_grad():
        out = model(x)
    if module_cls is LSTMRegressor:
        assert model.scale.item() == pytest.approx(dm.scaling[1])
        assert ((out - y) ** 2).mean().item() == pytest.approx(metrics["test/mse"], rel=1e-4)
    else:
        acc = ((out > 0) == y.bool()).float().mean().item()
        assert acc == pytest.approx(metrics["test/acc"], abs=1e-6)


def test_main_returns_the_optimized_metric(make_cfg):
    from lstm_lab.train import run

    cfg = make_cfg("experiment=stacked_lstm", "debug=fast", "trainer=cpu", "plot=false")
    value = run(cfg)
    assert (
        value
        == json.loads((REPO_ROOT / cfg.paths.output_dir / "metrics.json").read_text())["test/mse"]
    )


# The message itself is checked in-process below (and by make docs-check): this is the CLI's.
@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_gpu_trainer_without_cuda_stops_with_one_sentence(tmp_path):
    result = run_cli("trainer=gpu", f"hydra.run.dir={tmp_path / 'gpu'}")
    assert result.returncode == 2
    assert "trainer=cpu" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_gpu_check_happens_before_any_work(make_cfg, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = make_cfg("trainer=gpu")
    with pytest.raises(ConfigError, match="trainer=cpu"):
        train(cfg)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_early_stopping_counts_validations_and_the_best_checkpoint_is_tested(make_cfg, tmp_path):
    # min_delta=10: no validation counts as an improvement, so the second one stops training.
    cfg = make_cfg(
        "experiment=lstm", "callbacks=early_stopping", "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.min_delta=10", "trainer.max_steps=100",
        "trainer.val_check_interval=10", "plot=false",
    )  # fmt: skip
    metrics = train(cfg)
    assert metrics["train/steps"] == 20 and metrics["status"] == "completed"  # status
    assert {"test/acc", "test/seq_acc"} <= set(metrics) and metrics["val/best"] > 0
    # It watches the validation part only.
    assert cfg.callbacks.early_stopping.monitor.startswith("val/")
    assert (
        torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
        == 20
    )
