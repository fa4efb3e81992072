"""The speed benchmark compares like with like: its plain loop does train.py's work."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from benchmarks import bench, plain_loop
from lstm_lab.train import train

TINY = ["trainer.max_steps=20", "trainer.val_check_interval=10"]


@pytest.mark.parametrize("experiment", bench.EXPERIMENTS)
def test_plain_loop_takes_the_same_steps_to_the_same_test_loss(make_cfg, tmp_path, experiment):
    ours = train(make_cfg(f"experiment={experiment}", "trainer=cpu", "plot=false", *TINY))
    plain = plain_loop.run(bench.plain_spec(bench.compose(experiment, TINY)), tmp_path / "plain")
    assert ours["train/steps"] == plain["train/steps"] == 20
    # Same seeds, data order and arithmetic: the same numbers, not merely close ones.
    assert ours["test/loss"] == pytest.approx(plain["test/loss"], rel=1e-4)


def test_same_work_check_flags_missing_steps_and_a_different_loss():
    def run(arm: str, steps: int, loss: float) -> bench.Run:
        metrics = {"train/steps": steps, "test/loss": loss, "time/fit_seconds": 1.0}
        return bench.Run("bilstm", arm, 0, 1.0, 1.0, 100.0, metrics)

    same = [run("train.py", 20, 0.10), run("plain", 20, 0.10)]
    assert bench.same_work_problems(same, max_steps=20) == []
    problems = bench.same_work_problems(
        [run("train.py", 19, 0.10), run("plain", 20, 0.30)], max_steps=20
    )
    assert len(problems) == 2 and "19 steps" in problems[0] and "test/loss" in problems[1]


# bench.py starts five processes (train.py, the plain loop, a sweep): a tool check, test-all.
@pytest.mark.e2e
@pytest.mark.slow
def test_bench_writes_a_table_with_both_arms(tmp_path):
    out = tmp_path / "bench.md"
    result = run_cli(
        *[
            "--experiments",
            "stacked_lstm_keras",
            "--repeats",
            "1",
            "--no-warmup",
            *[arg for override in TINY for arg in ("--override", override)],
            # Two jobs of the compare_directions sweep, once.
            *("--sweep-repeats", "1"),
            *("--sweep-override", "direction=forward,backward"),
            *("--sweep-override", "seed=0"),
            "--out",
            str(out),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        script="benchmarks/bench.py",
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    table = out.read_text()
    assert "| `stacked_lstm_keras` | 20 |" in table
    assert "| `compare_directions` | 2 |" in table
    raw = json.loads((tmp_path / "runs" / "bench.json").read_text())
    (sweep,) = raw["sweeps"]
    assert sweep["jobs"] == 2 and 0 < sweep["fit_s"] < sweep["wall_s"]
    assert sweep["overhead_s"] == pytest.approx((sweep["wall_s"] - sweep["fit_s"]) / 2)
    runs = raw["runs"]
    assert sorted(r["arm"] for r in runs) == ["plain", "train.py"]
    assert all(
        r["peak_rss_mb"] > 0 and r["wall_s"] >= r["metrics"]["time/fit_seconds"] for r in runs
    )
