"""`--help` on each entry point says what it does, its arguments, examples and its own groups."""

from __future__ import annotations

import pytest
from conftest import run_cli

pytestmark = pytest.mark.e2e


def test_train_help_explains_train_and_lists_its_groups():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("train.py: train one LSTM experiment")
    assert "python train.py -m experiment=bilstm model.hidden_size=10,20,40 seed=0,1,2" in out
    assert "resume=RUN_DIR" in out
    assert "experiment: air_passengers, air_passengers_36, air_passengers_darts, bilstm," in out
    assert "hparams_search: _optuna, bilstm_optuna, bilstm_pareto, stacked_lstm_optuna" in out
    assert "is powered by Hydra" not in out


def test_eval_help_lists_only_eval_arguments():
    result = run_cli("--help", script="eval.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("eval.py: reload a finished training run")
    assert "python eval.py run_dir=outputs/train/runs/RUN" in out
    for key in ("run_dir=", "ckpt_path=", "n_sequences=", "plot=", "num_threads="):
        assert key in out
    for training_group in ("hparams_search", "experiment", "direction", "trainer"):
        assert training_group not in out


def test_export_help_lists_only_export_arguments():
    result = run_cli("--help", script="export.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("export.py: write a finished run's checkpoint as an ONNX model")
    assert "python export.py run_dir=outputs/train/runs/RUN" in out
    for key in ("run_dir=", "ckpt_path=", "output=", "check=", "num_threads="):
        assert key in out
    for training_group in ("hparams_search", "experiment", "direction", "trainer"):
        assert training_group not in out


def test_cfg_job_after_the_overrides_prints_the_composed_config():
    # The spelling README.md and --help show.
    result = run_cli("experiment=stacked_lstm", "--cfg", "job")
    assert result.returncode == 0, result.stderr
    assert "name: stacked_lstm" in result.stdout and "model:" in result.stdout
