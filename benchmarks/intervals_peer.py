"""The peer figure: StatsForecast's AutoETS with ConformalIntervals on AirPassengers' last year,
beside lstm-lab's LSTM on the same months.

    python benchmarks/intervals_peer.py --seeds 1 2 3 4 5

Train on 1949-1959 (132 months), forecast 1960 (12 months) with 80, 90 and 95% intervals, as
StatsForecast's docs do (`ConformalIntervals(n_windows=2, h=12)`, its default method
`conformal_distribution`), and also with `conformal_error` and with the 10 windows that fit in
the training part. Coverage and Winkler come from lstm_lab.intervals.scores and, as a check of
those definitions, from utilsforecast.losses on the same frame; the two must agree. Then
`python train.py experiment=air_passengers seed=S` (and its quantile-head variants), one
process per seed, read from each run's metrics.json: mean ± sd over the seeds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsforecast
from statsforecast import StatsForecast
from statsforecast.models import AutoETS
from statsforecast.utils import AirPassengersDF, ConformalIntervals
from utilsforecast.losses import coverage, winkler_score

from lstm_lab.intervals import scores

REPO = Path(__file__).resolve().parent.parent
LEVELS = (80, 90, 95)
HORIZON = 12
SETTINGS = [(2, "conformal_distribution"), (2, "conformal_error"), (10, "conformal_distribution")]
OURS = [
    ("LSTM, split-conformal per step (`intervals.method=conformal`, 100 windows)", []),
    ("LSTM quantile head, its own bands (`model.loss=quantile intervals.method=quantile`)",
     ["model.loss=quantile", "intervals.method=quantile"]),
    ("LSTM quantile head, conformalised (`model.loss=quantile intervals.method=cqr`)",
     ["model.loss=quantile", "intervals.method=cqr"]),
]  # fmt: skip


def run_ours(overrides: list[str], seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "train.py", "experiment=air_passengers", f"seed={seed}"]
        command += [*overrides, f"hydra.run.dir={folder}/run"]
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        return json.loads(Path(folder, "run", "metrics.json").read_text())


def mean_sd(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.fmean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"


def forecast(train: pd.DataFrame, n_windows: int, method: str) -> tuple[pd.DataFrame, float]:
    intervals = ConformalIntervals(n_windows=n_windows, h=HORIZON, method=method)
    model = AutoETS(season_length=12, prediction_intervals=intervals, alias="AutoETS")
    start = time.perf_counter()
    fcst = StatsForecast(models=[model], freq="MS").forecast(df=train, h=HORIZON, level=LEVELS)
    return fcst, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/intervals_peer.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()

    df = AirPassengersDF.copy()
    df["ds"] = pd.to_datetime(df["ds"]).dt.to_period("M").dt.to_timestamp()
    train, test = df[df["ds"] < "1960-01-01"], df[df["ds"] >= "1960-01-01"]
    assert len(train) == 132 and len(test) == HORIZON
    rows = []
    for n_windows, method in SETTINGS:
        fcst, seconds = forecast(train, n_windows, method)
        merged = test.merge(fcst, on=["unique_id", "ds"])
        y = merged["y"].to_numpy()
        cells = []
        for level in LEVELS:
            lo, hi = merged[f"AutoETS-lo-{level}"], merged[f"AutoETS-hi-{level}"]
            ours = (scores.coverage(y, lo, hi), scores.winkler(y, lo, hi, level))
            theirs = (
                float(coverage(merged, ["AutoETS"], level)["AutoETS"].iloc[0]),
                float(winkler_score(merged, ["AutoETS"], level)["AutoETS"].iloc[0]),
            )
            assert np.allclose(ours, theirs), (level, ours, theirs)
            cells.append(f"{100 * ours[0]:.0f}% / {ours[1]:.1f}")
        mape = 100 * float(np.mean(np.abs(merged["AutoETS"] - y) / y))
        label = f'`ConformalIntervals(n_windows={n_windows}, h=12, method="{method}")`'
        rows.append(f"| {label} | {mape:.2f}% | " + " | ".join(cells) + f" | {seconds:.1f} s |")
        print(rows[-1], flush=True)

    for label, overrides in OURS:
        runs = [run_ours(overrides, seed) for seed in args.seeds]
        cells = [
            f"{mean_sd([100 * r[f'test/coverage_{lv}'] for r in runs], '.0f')}% / "
            f"{mean_sd([r[f'test/winkler_{lv}'] for r in runs], '.1f')}"
            for lv in LEVELS
        ]
        mape = mean_sd([r["test/mape"] for r in runs], ".2f")
        rows.append(f"| {label} | {mape}% | " + " | ".join(cells) + " | |")
        print(rows[-1], flush=True)

    header = [
        f"{time.strftime('%Y-%m-%d')}, statsforecast {statsforecast.__version__}, "
        f"Python {platform.python_version()}; AutoETS(season_length=12) on AirPassengers "
        "1949-1959, scored on the 12 months of 1960. Cells: coverage / mean Winkler score "
        "(passengers, thousands); utilsforecast's `coverage` and `winkler_score` give the same "
        f"numbers (checked). lstm-lab rows: seeds {', '.join(map(str, args.seeds))}, mean ± sd.",
        "",
        "| intervals | MAPE | 80% | 90% | 95% | fit + forecast |",
        "|---|---|---|---|---|---|",
    ]
    args.out.write_text("\n".join(header + rows) + "\n")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
