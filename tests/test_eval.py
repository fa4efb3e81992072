"""eval.py and export.py on real short runs: rescoring, rollouts, per-step tables, ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import compose_config, run_cli
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from lstm_lab.cli import one_sentence_errors
from lstm_lab.config import CONFIG_DIR
from lstm_lab.evaluate import evaluate
from lstm_lab.train import train


def entry_config(name: str, *overrides: str) -> DictConfig:
    """configs/eval.yaml or configs/export.yaml as its entry point composes it."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose(name, overrides=list(overrides))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two 20-step runs: the forecasting recipe, made by the CLI as users make it, and a
    bidirectional classifier whose directions merge by `mul`, trained in-process."""
    root = tmp_path_factory.mktemp("runs")
    forecast, bilstm = root / "forecast", root / "bilstm_mul"
    result = run_cli(
        "experiment=stacked_lstm_forecast",
        *["debug=fast", "plot=false", "trainer=cpu", "logger=csv", f"hydra.run.dir={forecast}"],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    torch.set_num_threads(1)
    cfg = compose_config(
        ["experiment=bilstm", "model.merge_mode=mul", "debug=fast", "trainer=cpu", "plot=false"],
        bilstm,
    )
    train(cfg)
    # Saved the way Hydra saves a job's config: without the hydra node, unresolved.
    job = OmegaConf.to_container(cfg, resolve=False)
    job.pop("hydra")
    (bilstm / ".hydra").mkdir()
    OmegaConf.save(OmegaConf.create(job), bilstm / ".hydra" / "config.yaml")
    GlobalHydra.instance().clear()
    return {"forecast": forecast, "bilstm_mul": bilstm}


@pytest.mark.e2e
def test_eval_rescores_a_forecast_run_with_rollouts_and_baselines(runs):
    run = runs["forecast"]
    metrics = evaluate(entry_config("eval", f"run_dir={run}"))
    trained = json.loads((run / "metrics.json").read_text())
    assert metrics["test/mse"] == pytest.approx(trained["test/mse"], rel=1e-4)
    assert metrics["test/rollout_mse"] == pytest.approx(trained["test/rollout_mse"], rel=1e-4)
    for name in ("persistence", "linear_ar"):
        assert f"test/{name}/rollout_mse" in metrics
    assert json.loads((run / "eval" / "best" / "metrics.json").read_text()) == metrics
    assert (run / "eval" / "best" / "forecast.png").stat().st_size > 10_000
    lines = (run / "eval" / "best" / "forecasts.csv").read_text().splitlines()
    assert len(lines) == 1 + 79 and lines[0].startswith("x,actual,lstm_one_step")


@pytest.mark.e2e
def test_eval_prints_the_seeds_lines_and_accuracy_per_step(runs, capsys):
    run = runs["bilstm_mul"]
    ckpt = run / "checkpoints" / "best.ckpt"
    metrics = evaluate(entry_config("eval", f"ckpt_path={ckpt}", "n_sequences=2"))
    printed = capsys.readouterr().out
    assert printed.count("Expected: ") == 2 * 10
    assert "Expected: 0 Predicted: " in printed
    assert "crossing here" in printed
    steps = [metrics[f"test/acc_step_{t}"] for t in range(1, 11)]
    assert sum(steps) / 10 == pytest.approx(metrics["test/acc"], abs=1e-6)
    assert (run / "eval" / "best" / "step_accuracy.png").stat().st_size > 10_000
    assert (run / "eval" / "best" / "predictions.txt").read_text().count("Predicted") == 20


@pytest.mark.e2e
def test_each_checkpoint_keeps_its_own_evaluation(runs):
    run = runs["bilstm_mul"]
    for name in ("best", "last"):
        ckpt = run / "checkpoints" / f"{name}.ckpt"
        evaluate(entry_config("eval", f"ckpt_path={ckpt}", "plot=false", "n_sequences=0"))
    for name in ("best", "last"):
        record = json.loads((run / "eval" / name / "metrics.json").read_text())
        assert record["checkpoint"] == str(run / "checkpoints" / f"{name}.ckpt")


@pytest.mark.e2e
def test_eval_py_writes_only_into_the_runs_eval_folder(runs, tmp_path):
    ckpt = runs["forecast"] / "checkpoints" / "best.ckpt"
    result = run_cli(f"ckpt_path={ckpt}", script="eval.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "linear AR" in result.stdout and "test/rollout_mse" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_a_corrupt_checkpoint_exits_with_one_sentence(runs, tmp_path, capsys):
    bad = tmp_path / "checkpoints" / "best.ckpt"
    bad.parent.mkdir()
    bad.write_bytes(b"not a checkpoint")
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_bytes(
        (runs["forecast"] / ".hydra" / "config.yaml").read_bytes()
    )
    with pytest.raises(SystemExit) as exit_info:
        one_sentence_errors(evaluate)(entry_config("eval", f"ckpt_path={bad}"))
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "is not a readable checkpoint" in lines[0]


@pytest.mark.parametrize(
    "argument,message",
    [
        ("ckpt_path=/nowhere/best.ckpt", "ckpt_path=/nowhere/best.ckpt does not exist"),
        ("run_dir=/nowhere", "run_dir=/nowhere holds no checkpoints/best.ckpt"),
    ],
)
def test_a_missing_checkpoint_exits_with_one_sentence(argument, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        one_sentence_errors(evaluate)(entry_config("eval", argument))
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


@pytest.mark.e2e
@pytest.mark.parametrize("key", ["forecast", "bilstm_mul"])
def test_onnx_export_matches_pytorch(runs, key, tmp_path):
    pytest.importorskip("onnxruntime")
    from lstm_lab.export import export, onnx_outputs
    from lstm_lab.finished_run import load_run

    path = export(entry_config("export", f"run_dir={runs[key]}", f"output={tmp_path / 'm.onnx'}"))
    run = load_run(run_dir=str(runs[key]))
    x, _ = run.datamodule.test
    x = x[:64]
    with torch.no_grad():
        expected = run.model(x)
    got = onnx_outputs(path, x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
