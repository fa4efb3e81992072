"""What conformal intervals cost: whole `python train.py` processes with and without them.

    python benchmarks/intervals_overhead.py --repeats 5

Interleaved pairs (with, without, with, ...) of each experiment, start to exit; `~intervals`
removes the block, so the run reports point forecasts only. The ratio of the medians is the
goal's figure (within 10%).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--experiments", nargs="+", default=["air_passengers", "co2"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/intervals_overhead.md")
    args = parser.parse_args()
    rows = []
    for experiment in args.experiments:
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
    lines = [
        f"{time.strftime('%Y-%m-%d')}, 2-core CPU shared with other jobs, one thread, Python "
        f"{platform.python_version()}; medians (min-max) of {args.repeats} interleaved runs of the "
        "whole process, start to exit.",
        "",
        "| experiment | with conformal intervals | point forecasts only | ratio (goal <= 1.10) |",
        "|---|---|---|---|",
        *rows,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
