"""What conformal intervals cost: whole `python train.py` processes with and without them.

    python benchmarks/intervals_overhead.py --repeats 5

Interleaved pairs (with, without, with, ...) of each experiment, start to exit; `~intervals`
removes the block, so the run reports point forecasts only. The ratio of the medians is the
goal's figure (within 10%). Then, in one process, where the extra time goes: the series task's
test forecasts (fitting every baseline) beside its interval calibration, on an untrained model.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARMS = {"conformal intervals": [], "point forecasts only": ["~intervals"]}


def wall(overrides: list[str]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "train.py", *overrides, f"hydra.run.dir={folder}/run"]
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - start


def in_process(experiment: str) -> tuple[float, float, int]:
    """Seconds of the test forecasts and of their intervals, and the calibration windows."""
    import torch
    from hydra import compose, initialize_config_dir

    from lstm_lab.config import CONFIG_DIR, instantiate
    from lstm_lab.tasks.base import task_settings

    torch.set_num_threads(1)
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}"])
    data = instantiate(cfg.data)
    model = instantiate(cfg.model, **data.model_arguments)
    task = instantiate(cfg.task, **task_settings(cfg))
    start = time.perf_counter()
    task.test_forecasts(model, data)
    forecasts = time.perf_counter() - start
    start = time.perf_counter()
    task.test_bands(model, data)
    return forecasts, time.perf_counter() - start, cfg.intervals.windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--experiments", nargs="+", default=["air_passengers", "co2"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/intervals_overhead.md")
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    rows = []
    for experiment in [] if args.in_process_only else args.experiments:
        times = {arm: [] for arm in ARMS}
        for _ in range(args.repeats):
            for arm, extra in ARMS.items():
                times[arm].append(wall([f"experiment={experiment}", *extra]))
        with_, without = (statistics.median(times[arm]) for arm in ARMS)
        spread = {a: f"{min(t):.1f}-{max(t):.1f}" for a, t in times.items()}
        rows.append(
            f"| `{experiment}` | {with_:.2f} s ({spread['conformal intervals']}) | "
            f"{without:.2f} s ({spread['point forecasts only']}) | {with_ / without:.3f} |"
        )
        print(rows[-1], flush=True)
    parts = []
    for experiment in args.experiments:
        forecasts, intervals, windows = in_process(experiment)
        parts.append(
            f"| `{experiment}` | {forecasts:.2f} s | {intervals:.2f} s ({windows} windows per "
            f"model) | {intervals / forecasts:.2f} |"
        )
        print(parts[-1], flush=True)
    lines = [
        f"{time.strftime('%Y-%m-%d')}, 2-core CPU, nothing else running, one thread, Python "
        f"{platform.python_version()}; medians (min-max) of {args.repeats} interleaved runs of the "
        "whole process, start to exit.",
        "",
        "| experiment | with conformal intervals | point forecasts only | ratio (goal <= 1.10) |",
        "|---|---|---|---|",
        *rows,
        "",
        "| experiment | test forecasts (baselines fitted) | their intervals | share |",
        "|---|---|---|---|",
        *parts,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
