"""Parallel sweeps on 2 cores: a 2-job sweep one job at a time, or both at once with joblib.

    python benchmarks/joblib_threads.py --repeats 1

Cases run interleaved, each a whole `python train.py -m ...` process timed end to end; the
fit time is the median over the sweep's jobs (from its summary.csv), also per training
step. Two jobs with two intra-op threads each put four busy threads on two cores, which is
what `num_threads: 1` (the default) avoids; that case trains fewer steps because each one
is so much slower.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SWEEP = ["experiment=bilstm", "plot=false", "callbacks.progress_bar.refresh_rate=0", "seed=0,1"]
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
# label: (overrides, training steps per job)
CASES = {
    "one job at a time (basic launcher), 1 thread per job": (["num_threads=1"], 1000),
    "joblib, 2 jobs at once, 1 thread per job (default)": ([*JOBLIB, "num_threads=1"], 1000),
    "joblib, 2 jobs at once, 2 threads per job": ([*JOBLIB, "num_threads=2"], 100),
}


def run(overrides: list[str], steps: int, sweep_dir: Path) -> tuple[float, float]:
    """Whole-sweep wall seconds and the median job fit seconds."""
    steps_args = [f"trainer.max_steps={steps}", f"trainer.val_check_interval={steps // 2}"]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "train.py", "-m", *SWEEP, *steps_args, *overrides]
        + [f"hydra.sweep.dir={sweep_dir}"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    with (sweep_dir / "summary.csv").open() as f:
        fits = [float(row["time/fit_seconds"]) for row in csv.DictReader(f)]
    return wall, statistics.median(fits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {case: [] for case in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for i, (case, (overrides, steps)) in enumerate(CASES.items()):
                results[case].append(run(overrides, steps, Path(tmp) / f"{repeat}_{i}"))
                print(f"{case}: {results[case][-1]}", file=sys.stderr, flush=True)
    print("| 2 jobs of bilstm (batch 128) | steps per job | sweep wall | fit per job | per step |")
    print("|---|---|---|---|---|")
    for case, runs in results.items():
        steps = CASES[case][1]
        wall = statistics.median(w for w, _ in runs)
        fit = statistics.median(f for _, f in runs)
        print(f"| {case} | {steps} | {wall:.1f} s | {fit:.2f} s | {1000 * fit / steps:.1f} ms |")


if __name__ == "__main__":
    main()
