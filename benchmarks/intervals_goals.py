"""Interval goals on a long real series: coverage and Winkler on rolling-origin backtests of
Mauna Loa weekly CO2, against seasonal-naive conformal intervals on the same windows, and how
coverage moves with the number of calibration windows.

    python benchmarks/intervals_goals.py --seeds 1 2 3 4 5
    python benchmarks/intervals_goals.py --seeds 1 2 3 4 5 --counts 100 --before 559 \
        --out benchmarks/intervals_goals_tuning.md

The second run, on the 40 windows before the scored ones, is where gamma is chosen.

In one process, with the project's own code on the experiment's config as train.py composes
it: `lstm_lab.tasks.backtest` places the windows and trains the LSTM per refit
(`fit_window`: only points before each window), `lstm_lab.tasks.series_intervals` calibrates
each window on the rolling origins whose targets end by its origin. Seasonal naive
(statsforecast) gets the same calibration on the same windows. One trained model per seed
serves every calibration window count, so the counts differ in calibration only. Adaptive
conformal inference (`lstm_lab.intervals.adaptive`) reuses the calibration scores of
`--aci-count` windows, per gamma, on the same forecasts.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir

from lstm_lab.config import CONFIG_DIR, instantiate
from lstm_lab.intervals import scores
from lstm_lab.intervals.adaptive import aci_margins
from lstm_lab.tasks import stat_baselines
from lstm_lab.tasks.backtest import fit_window, origins_of, refit_schedule
from lstm_lab.tasks.series_intervals import (
    IntervalSettings,
    adaptive_margins,
    bands_of,
    calibration_forecasts,
    model_outputs,
    scores_before,
    stack_margins,
)

REPO = Path(__file__).resolve().parent.parent
LEVELS = (80.0, 90.0, 95.0)
BASELINE = "seasonal_naive"


def config(overrides: list[str]):
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides)


def one_seed(
    cfg,
    windows: int,
    step: int,
    refit,
    counts: list[int],
    aci_count: int,
    gammas: list[float],
    before: int = 0,
) -> dict:
    """{count or (aci_count, gamma): {name: (coverage per level, winkler per level)}} over
    every window and step: split-conformal at each count, ACI at `aci_count` per gamma."""
    reference = instantiate(cfg.data)
    values, horizon = reference.series.values, reference.horizon
    origins = origins_of(len(values), len(values) - 1 - before, horizon, windows, step)
    schedule = refit_schedule(windows, refit)
    fits = [int(origins[w]) for w in schedule]
    actual = values[origins[:, None] + np.arange(1, horizon + 1)]  # (W, H)
    naive = stat_baselines.forecast([BASELINE], values, fits, origins, horizon, reference.season)
    lstm = {}
    calibration: dict[int, dict[str, list]] = {n: {} for n in {*counts, aci_count}}
    for start in sorted(set(schedule)):
        members = [w for w in range(windows) if schedule[w] == start]
        model, datamodule = fit_window(cfg, int(origins[start]))
        outputs = model_outputs(model, datamodule.inputs(origins[members]))
        lstm.update(zip(members, outputs, strict=True))
        for n in calibration:
            settings = IntervalSettings(LEVELS, "conformal", n, 1)
            ends = origins[members]
            history = values[: int(ends.max()) + 1]
            forecast_from = calibration_forecasts(
                model, datamodule, history, fits[start], [BASELINE]
            )
            first = datamodule.lookback - 1
            got = scores_before(
                forecast_from, history, ends, horizon, first, settings, {"lstm": model}
            )
            for name, per_window in got.items():
                rows = calibration[n].setdefault(name, [None] * windows)
                for w, scores_w in zip(members, per_window, strict=True):
                    rows[w] = scores_w
    points = {"lstm": np.stack([lstm[w] for w in range(windows)]), BASELINE: naive[BASELINE]}
    runs = {n: IntervalSettings(LEVELS, "conformal", n, 1) for n in {*counts, aci_count}}
    runs |= {
        (aci_count, g): IntervalSettings(LEVELS, "conformal", aci_count, 1, "aci", g)
        for g in gammas
    }
    out = {}
    for key, settings in runs.items():
        got = calibration[settings.windows]
        if settings.adaptive == "aci":
            margins = adaptive_margins(got, points, actual, origins, settings, {})
        else:
            margins = {name: stack_margins(rows, LEVELS) for name, rows in got.items()}
        out[key] = {}
        for name, point in points.items():
            _, bands = bands_of(name, point, margins[name], settings, None)
            out[key][name] = (
                [scores.coverage(actual, *bands[lv]) for lv in LEVELS],
                [scores.winkler(actual, *bands[lv], lv) for lv in LEVELS],
                scores.coverage(actual, point, point),  # 0: a check the points are not the truth
                clipped(got[name], np.abs(actual - point), origins, settings),
            )
    return out


def clipped(calibration, errors, origins, settings) -> list[float]:
    """Per level, the shares of windows whose ACI alpha fell under 1 / (n + 1) (the rank
    clipped to the largest calibration score) and reached 1 (the smallest); [] without ACI."""
    if settings.adaptive != "aci":
        return []
    n = len(calibration[0])
    out = []
    for level in LEVELS:
        _, alphas = aci_margins(
            calibration, errors, origins, errors.shape[1], level, settings.gamma
        )
        out.append((float(np.mean(alphas < 1 / (n + 1))), float(np.mean(alphas >= 1))))
    return out


def mean_sd(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.fmean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--step", type=int, default=13)
    parser.add_argument("--refit", default="false")
    parser.add_argument("--counts", type=int, nargs="+", default=[20, 50, 100, 200, 400])
    parser.add_argument("--aci-count", type=int, default=100, help="calibration windows of ACI")
    parser.add_argument(
        "--gammas", type=float, nargs="*", default=[0.001, 0.002, 0.005, 0.01, 0.02, 0.05]
    )
    parser.add_argument(
        "--before",
        type=int,
        default=0,
        help="end the last window this many points before the series' end (0: at its end); "
        "a tuning run on earlier windows picks gamma without reading the scored ones",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/intervals_goals.md")
    parser.add_argument(
        "--overrides",
        nargs="*",
        default=["experiment=co2"],
        help="train.py overrides naming the experiment",
    )
    args = parser.parse_args()
    refit = {"false": False, "true": True}.get(args.refit.lower())
    refit = int(args.refit) if refit is None else refit
    torch.set_num_threads(1)

    start = time.perf_counter()
    results = []
    for seed in args.seeds:
        cfg = config([*args.overrides, f"seed={seed}"])
        results.append(
            one_seed(
                cfg,
                args.windows,
                args.step,
                refit,
                args.counts,
                args.aci_count,
                args.gammas,
                args.before,
            )  # fmt: skip
        )
        print(f"seed {seed} done, {time.perf_counter() - start:.0f} s", flush=True)
    horizon = cfg.data.horizon
    targets = args.windows * horizon
    distinct = (args.windows - 1) * args.step + horizon
    lines = [
        f"{time.strftime('%Y-%m-%d')}, 2-core CPU shared with other jobs, one thread, Python "
        f"{platform.python_version()}; `{' '.join(args.overrides)}`, {args.windows} backtest "
        f"windows of {horizon} points, {args.step} apart (refit={args.refit}), the last ending "
        f"{args.before} points before the series' end: {targets} scored "
        f"forecasts of {distinct} distinct points; seeds {', '.join(map(str, args.seeds))} "
        "(mean ± sd over seeds). Calibration: the last N rolling origins (step 1) whose targets "
        "end by each window's origin.",
        "",
        "| calibration windows N | model | coverage 80% | coverage 90% | coverage 95% "
        "| Winkler 90% |",
        "|---|---|---|---|---|---|",
    ]
    for n in args.counts:
        for name in ("lstm", BASELINE):
            cover = [[r[n][name][0][i] for r in results] for i in range(len(LEVELS))]
            winkler = [r[n][name][1][1] for r in results]
            cells = [mean_sd([100 * c for c in cs], ".1f") for cs in cover]
            lines.append(
                f"| {n} | {name} | " + " | ".join(cells) + f" | {mean_sd(winkler, '.3f')} |"
            )
    lines += [
        "",
        f"Adaptive conformal inference (`intervals.adaptive=aci`), N = {args.aci_count}, on the "
        "same windows and forecasts; gamma per target, 52 targets per window:",
        "",
        "| intervals | model | coverage 80% | coverage 90% | coverage 95% | Winkler 90% "
        "| windows clipped at 80 / 90 / 95%: widest+narrowest (%) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in [args.aci_count, *((args.aci_count, g) for g in args.gammas)]:
        label = "split-conformal" if isinstance(key, int) else f"ACI, gamma={key[1]:g}"
        for name in ("lstm", BASELINE):
            cover = [[r[key][name][0][i] for r in results] for i in range(len(LEVELS))]
            winkler = [r[key][name][1][1] for r in results]
            cells = [mean_sd([100 * c for c in cs], ".1f") for cs in cover]
            shares = [r[key][name][3] for r in results]
            by_level = zip(*shares, strict=True)
            clip_cell = " / ".join(
                "{:.0f}+{:.0f}".format(*(100 * np.mean(c, axis=0))) for c in by_level
            )
            lines.append(
                f"| {label} | {name} | " + " | ".join(cells) + f" | {mean_sd(winkler, '.3f')} "
                f"| {clip_cell} |"
            )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"Wrote {args.out} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
