"""Every experiment and trainer composes and builds real objects."""

from __future__ import annotations

import hydra
import pytest
import pytorch_lightning as pl
from conftest import EXPERIMENTS, run_cli

from lstm_lab.config import instantiate
from lstm_lab.data import CumsumDataModule, FunctionDataModule
from lstm_lab.data.series import SeriesDataModule
from lstm_lab.models import (
    LSTMDirectForecaster,
    LSTMForecaster,
    LSTMRegressor,
    LSTMSequenceClassifier,
)

EXPECTED = {
    "stacked_lstm": (FunctionDataModule, LSTMRegressor, "test/mse"),
    "stacked_lstm_keras": (FunctionDataModule, LSTMRegressor, "test/mse"),
    "stacked_lstm_forecast": (FunctionDataModule, LSTMForecaster, "test/rollout_mse"),
    "lstm": (CumsumDataModule, LSTMSequenceClassifier, "test/seq_acc"),
    "lstm_keras": (CumsumDataModule, LSTMSequenceClassifier, "test/seq_acc"),
    "bilstm": (CumsumDataModule, LSTMSequenceClassifier, "test/seq_acc"),
    "bilstm_keras": (CumsumDataModule, LSTMSequenceClassifier, "test/seq_acc"),
    "compare_directions": (CumsumDataModule, LSTMSequenceClassifier, "test/seq_acc"),
    "air_passengers": (SeriesDataModule, LSTMDirectForecaster, "val/best"),
    "air_passengers_darts": (SeriesDataModule, LSTMDirectForecaster, "val/best"),
    "air_passengers_36": (SeriesDataModule, LSTMDirectForecaster, "val/best"),
    "co2": (SeriesDataModule, LSTMDirectForecaster, "val/best"),
    "forecast_csv": (SeriesDataModule, LSTMDirectForecaster, "val/best"),
}
# What an experiment needs from the command line to build.
REQUIRED = {"forecast_csv": ["data.dataset=air_passengers"]}


def test_every_experiment_file_is_covered():
    # Equality: a new experiment file must be added here, with what it builds and optimizes.
    assert set(EXPERIMENTS) == set(EXPECTED)


@pytest.mark.parametrize("experiment", sorted(EXPECTED))
def test_experiment_composes_and_instantiates(make_cfg, experiment):
    cfg = make_cfg(f"experiment={experiment}", "trainer=cpu", *REQUIRED.get(experiment, []))
    data_cls, model_cls, metric = EXPECTED[experiment]
    assert cfg.name == experiment
    assert cfg.optimized_metric == metric
    data = instantiate(cfg.data)
    assert isinstance(data, data_cls)
    model = instantiate(cfg.model, **getattr(data, "model_arguments", {}))
    assert isinstance(model, model_cls)
    # Hyperparameters are plain values, never DictConfig or _target_ strings.
    assert all(not k.startswith("_") for k in model.hparams)
    assert isinstance(model.hparams["optimizer"], dict)
    trainer = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
    assert isinstance(trainer, pl.Trainer)
    assert trainer.max_steps == cfg.trainer.max_steps


def test_default_run_is_bilstm(make_cfg):
    cfg = make_cfg()
    assert cfg.name == "bilstm"
    assert cfg.model.bidirectional is True


@pytest.mark.parametrize("trainer", ["default", "cpu", "gpu", "ddp"])
def test_every_trainer_composes(make_cfg, trainer):
    cfg = make_cfg(f"trainer={trainer}")
    expected = {"default": "auto", "cpu": "cpu", "gpu": "gpu", "ddp": "cpu"}[trainer]
    assert cfg.trainer.accelerator == expected
    assert cfg.trainer.max_steps == make_cfg().trainer.max_steps


def test_keras_recipes_match_the_keras_scripts(make_cfg):
    regression = make_cfg("experiment=stacked_lstm_keras")
    assert regression.data.scale == "none" and regression.data.val_fraction == 0
    assert regression.data.batch_size == 50 and regression.trainer.max_steps == 200 * 7
    # `fused` only picks torch's single-kernel implementation of the same update.
    optimizer = {k: v for k, v in regression.model.optimizer.items() if k != "fused"}
    assert optimizer == {"name": "adam", "lr": 0.001, "weight_decay": 0.0, "eps": 1e-7}
    for experiment in ("lstm_keras", "bilstm_keras"):
        cfg = make_cfg(f"experiment={experiment}")
        assert cfg.data.batch_size == 1 and cfg.trainer.max_steps == 1000
        assert cfg.model.hidden_size == 20 and cfg.model.scheduler.name == "none"


@pytest.mark.parametrize(
    "launcher,target",
    [("joblib", "JoblibLauncher"), ("submitit_slurm", "SlurmLauncher")],
)
def test_parallel_and_cluster_launchers_compose_and_build(make_cfg, launcher, target):
    cfg = make_cfg(f"hydra/launcher={launcher}")
    assert cfg.hydra.launcher._target_.endswith(target)
    # Building the launcher submits nothing; it proves the plugin and its config fit.
    assert type(hydra.utils.instantiate(cfg.hydra.launcher)).__name__ == target


def test_direction_options_set_the_encoder(make_cfg):
    expected = {
        "forward": (False, False, "concat"),
        "backward": (False, True, "concat"),
        "bidirectional_sum": (True, False, "sum"),
    }
    for direction, (bidirectional, backwards, merge) in expected.items():
        model = make_cfg("experiment=compare_directions", f"direction={direction}").model
        assert (model.bidirectional, model.go_backwards, model.merge_mode) == (
            bidirectional,
            backwards,
            merge,
        )


@pytest.mark.e2e
@pytest.mark.parametrize(
    "old,new",
    [
        ("lstm_seed", "lstm_keras"),
        # The same check on the other names: `make test-all` runs them.
        pytest.param("bilstm_seed", "bilstm_keras", marks=pytest.mark.slow),
        pytest.param("stacked_lstm_seed", "stacked_lstm_keras", marks=pytest.mark.slow),
    ],
)
def test_old_keras_recipe_names_stop_with_the_new_name(old, new, tmp_path):
    result = run_cli(f"experiment={old}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: experiment={old} is now called experiment={new}; use that name."
    )
    assert not (tmp_path / "run").exists()
