"""Statistics over seeds: t-intervals, paired tests against a reference, a real sweep's tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from scipy import stats

from lstm_lab.errors import ConfigError
from lstm_lab.sweep.jobs import Job
from lstm_lab.sweep.paired import compare_variants, pick_reference
from lstm_lab.sweep.stats import compare, describe, higher_is_better

FORWARD = [0.874, 0.851, 0.902, 0.861, 0.885]


def test_seed_interval_is_the_student_t_interval_of_the_mean():
    summary = describe([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, sample std sqrt(2.5), t(0.975, df=4) = 2.776445
    assert (summary.n, summary.mean) == (5, 3.0)
    assert summary.std == pytest.approx(math.sqrt(2.5))
    assert summary.low == pytest.approx(3 - 2.776445 * math.sqrt(2.5 / 5), abs=1e-6)
    assert summary.high == pytest.approx(3 + 2.776445 * math.sqrt(2.5 / 5), abs=1e-6)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(FORWARD), scale=stats.sem(FORWARD))
    assert (describe(FORWARD).low, describe(FORWARD).high) == pytest.approx((low, high))


def test_one_seed_has_no_interval_and_equal_seeds_a_zero_width_one():
    one = describe([0.9])
    assert one.n == 1 and one.mean == 0.9 and math.isnan(one.low) and math.isnan(one.std)
    same = describe([400.0, 400.0, 400.0])
    assert (same.std, same.low, same.high) == (0.0, 400.0, 400.0)


def test_paired_comparison_matches_scipy_paired_t_and_wilcoxon():
    variant = [0.901, 0.880, 0.931, 0.869, 0.920]
    result = compare("sum", "forward", "test/seq_acc", list(zip(variant, FORWARD, strict=True)))
    differences = np.subtract(variant, FORWARD)
    half = stats.t.ppf(0.975, 4) * differences.std(ddof=1) / math.sqrt(5)
    assert result.n == 5
    assert result.difference == pytest.approx(differences.mean())
    assert (result.low, result.high) == pytest.approx(
        (differences.mean() - half, differences.mean() + half)
    )
    assert result.p_ttest == pytest.approx(stats.ttest_rel(variant, FORWARD).pvalue)
    assert result.p_wilcoxon == pytest.approx(stats.wilcoxon(variant, FORWARD).pvalue)
    # Every seed gains: the exact two-sided Wilcoxon p of 5 positive ranks is 2/32.
    assert result.p_wilcoxon == pytest.approx(0.0625)


def test_a_consistent_gain_is_significant_and_seed_noise_is_not():
    gain = [0.03, 0.02, 0.04, 0.035, 0.025]
    better = compare(
        "sum", "forward", "test/seq_acc", [(f + g, f) for f, g in zip(FORWARD, gain, strict=True)]
    )
    assert better.verdict == "better" and better.p_ttest < 0.05 and better.low > 0
    assert better.sentence() == (
        "sum beats forward on test/seq_acc by +0.0300 [0.0202, 0.0398], p = 0.0011, 5 seeds."
    )
    noise = [0.03, -0.02, 0.01, -0.025, 0.005]
    same = compare(
        "mul", "forward", "test/seq_acc", [(f + g, f) for f, g in zip(FORWARD, noise, strict=True)]
    )
    assert same.verdict == "no significant difference" and same.low < 0 < same.high
    assert same.sentence().startswith("mul vs forward on test/seq_acc: no significant difference")


def test_a_lower_loss_beats_and_a_higher_loss_loses():
    assert higher_is_better("test/seq_acc") and higher_is_better("val/acc")
    assert not any(map(higher_is_better, ["test/loss", "val/best", "test/mse", "time/fit_seconds"]))
    losses = [0.043, 0.050, 0.038, 0.047, 0.041]
    lower = compare("sum", "forward", "test/loss", [(v - 0.008, v) for v in losses])
    assert lower.verdict == "better"
    assert lower.sentence().startswith("sum beats forward on test/loss by -0.008")
    assert "lower is better" in lower.sentence()
    higher = compare("backward", "forward", "test/loss", [(v + 0.18 + v / 10, v) for v in losses])
    assert higher.verdict == "worse"
    assert higher.sentence().startswith("backward is worse than forward on test/loss by +0.18")


def test_interval_scores_compare_lower_and_coverage_names_no_winner():
    assert not any(map(higher_is_better, ["test/winkler_90", "test/width_90", "test/crps"]))
    coverages = [0.80, 0.82, 0.79, 0.81, 0.83]
    wider = compare("cqr", "conformal", "test/coverage_90", [(v + 0.1, v) for v in coverages])
    assert wider.winner is None and wider.verdict == "differs"
    assert wider.sentence().startswith("cqr vs conformal on test/coverage_90: differs by +0.1")
    assert "closest to 90% is best" in wider.sentence()
    winkler = compare("cqr", "conformal", "test/auto_ets/winkler_90", [(v - 1, v) for v in FORWARD])
    assert winkler.verdict == "better"


def test_identical_results_on_every_seed_compare_without_error():
    result = compare("sum", "forward", "train/steps", [(400.0, 400.0)] * 5)
    assert (result.difference, result.low, result.high) == (0.0, 0.0, 0.0)
    assert result.verdict == "identical" and result.p_ttest == 1.0
    assert result.sentence() == "sum and forward are identical on train/steps (5 seeds)."


def job(num: int, direction: str, seed: int, seq_acc: float) -> Job:
    overrides = {"direction": direction, "seed": str(seed)}
    return Job(num, Path(f"{num}"), overrides, {"test/seq_acc": seq_acc}, "completed")


def test_variants_are_paired_by_seed_against_the_first_or_the_named_value():
    jobs = [
        job(i, "forward", seed, acc)
        for i, (seed, acc) in enumerate(zip(range(5), FORWARD, strict=True))
    ]
    # The sum runs finished in another order, and its seed 4 is missing: pairs follow seeds.
    jobs += [job(10 + s, "sum", s, FORWARD[s] + 0.01 * (s + 1)) for s in (3, 1, 0, 2)]
    default = compare_variants(jobs, ["test/seq_acc"])
    (result,) = default.results
    assert (default.key, default.reference, result.variant, result.n) == (
        "direction",
        "forward",
        "sum",
        4,
    )
    assert result.difference == pytest.approx(0.025)
    named = compare_variants(jobs, ["test/seq_acc"], compare_to="sum")
    assert named.reference == "sum" and named.results[0].difference == pytest.approx(-0.025)


def test_a_compare_to_that_is_not_swept_names_the_values():
    with pytest.raises(ConfigError) as error:
        pick_reference("direction", ["forward", "backward"], "sideways")
    assert str(error.value) == (
        "compare_to=sideways is not a value of the swept direction: "
        "choose one of forward, backward."
    )


def test_comparison_png_error_bars_are_the_95_percent_intervals():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstm_lab.sweep.plot import _plot_metric_by_value
    from lstm_lab.sweep.summary import group_jobs

    jobs = [job(s, "forward", s, acc) for s, acc in enumerate(FORWARD)]
    jobs += [job(5 + s, "sum", s, acc + 0.03 * (s % 2)) for s, acc in enumerate(FORWARD)]
    fig, ax = plt.subplots()
    _plot_metric_by_value(ax, group_jobs(jobs), ["direction"], "test/seq_acc", ["C0", "C1"])
    bars = [container.lines[2][0].get_segments()[0] for container in ax.containers]
    for segment, values in zip(
        bars,
        (
            [j.metrics["test/seq_acc"] for j in jobs[:5]],
            [j.metrics["test/seq_acc"] for j in jobs[5:]],
        ),
        strict=True,
    ):
        expected = describe(values)
        assert (segment[0][1], segment[1][1]) == pytest.approx((expected.low, expected.high))
    assert ax.get_ylabel() == "test/seq_acc (mean, 95% CI over seeds)"
    plt.close(fig)


@pytest.mark.e2e
def test_a_sweep_ends_with_intervals_and_paired_comparisons(tmp_path):
    sweep_dir = tmp_path / "directions"
    result = run_cli(
        "-m",
        "experiment=compare_directions",
        "direction=forward,backward,bidirectional_sum",
        "seed=0,1,2",
        "compare_to=bidirectional_sum",
        "debug=fast",
        "callbacks.progress_bar.refresh_rate=0",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with (sweep_dir / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 9 and all(row["status"] == "completed" for row in rows)

    def seq_acc(direction: str) -> list[float]:
        return [float(r["test/seq_acc"]) for r in rows if r["direction"] == direction]

    with (sweep_dir / "summary_seeds.csv").open() as f:
        seeds = {(r["direction"], r["metric"]): r for r in csv.DictReader(f)}
    for direction in ("forward", "backward", "bidirectional_sum"):
        expected = describe(seq_acc(direction))
        row = seeds[(direction, "test/seq_acc")]
        assert int(row["n"]) == 3
        assert float(row["ci_low"]) == pytest.approx(expected.low)
        assert float(row["ci_high"]) == pytest.approx(expected.high)

    with (sweep_dir / "summary_paired.csv").open() as f:
        paired = {(r["direction"], r["metric"]): r for r in csv.DictReader(f)}
    text = (sweep_dir / "summary.md").read_text()
    assert "## Mean ± std [95% CI] over seeds" in text
    assert "## Paired comparison with direction=bidirectional_sum (same seeds)" in text
    reference = seq_acc("bidirectional_sum")
    for variant in ("forward", "backward"):
        expected = compare(
            variant,
            "bidirectional_sum",
            "test/seq_acc",
            list(zip(seq_acc(variant), reference, strict=True)),
        )
        row = paired[(variant, "test/seq_acc")]
        assert row["reference"] == "bidirectional_sum" and int(row["n"]) == 3
        assert float(row["p_ttest"]) == pytest.approx(
            stats.ttest_rel(seq_acc(variant), reference).pvalue
        )
        # The sweep prints the same sentence that summary.md holds.
        assert f"- {expected.sentence()}" in text
        assert expected.sentence() in result.stdout
    assert ("bidirectional_sum", "test/seq_acc") not in paired

    # Summed up again against another reference: nothing trains, the summary follows.
    finished = {p: p.read_text() for p in sweep_dir.glob("*/metrics.json")}
    again = run_cli("-m", f"resume={sweep_dir}", "compare_to=forward")
    assert again.returncode == 0, again.stderr[-3000:]
    assert (again.stdout + again.stderr).count("Skipped: this job completed") == 9
    assert {p: p.read_text() for p in sweep_dir.glob("*/metrics.json")} == finished
    text = (sweep_dir / "summary.md").read_text()
    assert "## Paired comparison with direction=forward (same seeds)" in text
    assert "compare_to" not in text.split("## Jobs")[0]  # the summary's setting, not a job's


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("swept", "message"),
    [
        (
            ["direction=forward,backward", "compare_to=sideways"],
            "compare_to=sideways is not a value of the swept direction: "
            "choose one of forward, backward.",
        ),
        pytest.param(
            ["direction=forward,backward", "model.hidden_size=4,8", "compare_to=forward"],
            "compare_to=forward needs a sweep over seed and exactly one other key, but this one "
            "sweeps direction, model.hidden_size: remove compare_to or sweep one key.",
            marks=pytest.mark.slow,  # a second message: `make test-all`
        ),
    ],
)
def test_a_bad_compare_to_stops_the_sweep_before_any_job(tmp_path, swept, message):
    sweep_dir = tmp_path / "never"
    result = run_cli(
        "-m", "experiment=compare_directions", "seed=0,1", *swept, f"hydra.sweep.dir={sweep_dir}"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {message}"
    # No job ran and nothing was written (the writability check may leave the empty folder).
    assert not sweep_dir.exists() or not any(sweep_dir.iterdir())
