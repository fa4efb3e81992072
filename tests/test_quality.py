"""The shipped recipes reach their targets, trained exactly as `python train.py` does."""

from __future__ import annotations

import pytest

from lstm_lab.train import train


# A full recipe run (20 s on 2 cores): a quality run, so `make test-all` runs it.
@pytest.mark.slow
def test_bilstm_reaches_99_percent_step_accuracy(make_cfg):
    metrics = train(make_cfg("experiment=bilstm", "trainer=cpu", "plot=false"))
    assert metrics["test/acc"] >= 0.99
    assert metrics["test/seq_acc"] >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["bilstm", "lstm"])
def test_classifier_recipes_reach_997_step_and_97_sequence_accuracy(make_cfg, experiment):
    metrics = train(make_cfg(f"experiment={experiment}", "trainer=cpu", "plot=false"))
    assert metrics["test/acc"] >= 0.997
    assert metrics["test/seq_acc"] >= 0.97


@pytest.mark.slow
def test_stacked_lstm_recipe_reaches_003_test_mse(make_cfg):
    metrics = train(make_cfg("experiment=stacked_lstm", "trainer=cpu", "plot=false"))
    assert metrics["test/mse"] <= 0.03


@pytest.mark.slow
def test_stacked_lstm_forecast_rolls_79_steps_out_within_mse_1(make_cfg):
    metrics = train(make_cfg("experiment=stacked_lstm_forecast", "trainer=cpu", "plot=false"))
    assert metrics["test/rollout_mse"] <= 1.0
    assert metrics["test/mse"] <= 0.03


@pytest.mark.slow
def test_keras_recipe_is_far_behind_ours(make_cfg, tmp_path):
    seed = train(
        make_cfg(
            "experiment=bilstm_keras", "trainer=cpu", "plot=false", output_dir=tmp_path / "seed"
        )
    )
    ours = train(
        make_cfg("experiment=bilstm", "trainer=cpu", "plot=false", output_dir=tmp_path / "ours")
    )
    assert seed["test/seq_acc"] < 0.9 < ours["test/seq_acc"]
