"""Forecasting table: LSTM recipes and baselines, one-step and 79-step rollout MSE, over seeds.

    python benchmarks/forecast_results.py --seeds 1 2 3

Each run is `python train.py experiment=... seed=S` in its own process, one at a time; the
rollout and baseline scores come from the run's metrics.json (see lstm_lab/forecast.py).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from results import REPO, run  # the sibling script: its folder is on sys.path when run

# (row label, experiment, extra overrides). The two rows without the fitted highway get the
# learning rate and the 3x longer training they need to fit at all.
LONGER = ["model.optimizer.lr=0.01", "trainer.max_steps=1500", "trainer.val_check_interval=100"]
VARIANTS = [
    ("`stacked_lstm`: one-step loss", "stacked_lstm", []),
    ("rollout loss, no highway", "stacked_lstm_forecast", ["model.highway=none", *LONGER]),
    (
        "rollout loss + learned highway (LSTNet)",
        "stacked_lstm_forecast",
        ["model.highway=learned", *LONGER],
    ),
    ("fitted highway, one-step loss", "stacked_lstm_forecast", ["data.horizon=1"]),
    (
        "**`stacked_lstm_forecast`**: fitted highway + 10-step rollout loss",
        "stacked_lstm_forecast",
        [],
    ),
]
BASELINES = [("persistence", "persistence"), ("linear AR (least squares)", "linear_ar")]


def summarize(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.3g}"
    return f"{mean:.3g} ± {statistics.stdev(values):.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/forecast_results.md")
    parser.add_argument("--runs-dir", type=Path, default=REPO / "outputs/forecast_results")
    args = parser.parse_args()

    rows, last = [], {}
    for i, (label, experiment, overrides) in enumerate(VARIANTS):
        results = []
        for seed in args.seeds:
            metrics, wall = run(
                experiment, overrides, seed, args.runs_dir / f"variant{i}_seed{seed}"
            )
            results.append((metrics, wall))
            print(label, seed, metrics["test/mse"], metrics["test/rollout_mse"], flush=True)
        last = results[-1][0]
        rows.append(
            f"| {label} | {summarize([m['test/mse'] for m, _ in results])} | "
            f"{summarize([m['test/rollout_mse'] for m, _ in results])} | "
            f"{statistics.median(w for _, w in results):.0f} s |"
        )
    for label, name in BASELINES:
        rows.append(
            f"| {label} | {last[f'test/{name}/mse']:.3g} | "
            f"{last[f'test/{name}/rollout_mse']:.3g} | |"
        )

    header = (
        f"Seeds {', '.join(map(str, args.seeds))}: mean ± std over seeds. One-step MSE over the "
        "79 test windows; rollout MSE over the same 79 steps, forecast from the first test "
        "window alone. Wall = median whole `python train.py` process on this machine's 2 CPU "
        "cores. The baselines are deterministic.\n\n"
        "| model | one-step MSE | rollout MSE | wall |\n|---|---|---|---|\n"
    )
    args.out.write_text(header + "\n".join(rows) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
