"""Two workers on one study against one: the same search command started once or twice.

    python benchmarks/search_workers.py --out benchmarks/search_workers.md

Each worker is `python train.py -m hparams_search=bilstm_optuna` with one thread
(OMP_NUM_THREADS=1, num_threads=1); both workers of a pair start together on one sqlite
study and share its `n_trials`. One- and two-worker searches alternate, `--repeats` times,
so both see the same machine. Run it on a quiet machine with at least 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def search(workers: int, sweep_dir: Path, n_trials: int, extra: list[str]) -> float:
    """Wall time from starting `workers` identical commands to the last one's exit."""
    command = [sys.executable, "train.py", "-m", "hparams_search=bilstm_optuna"]
    command += [f"hydra.sweeper.n_trials={n_trials}", f"hydra.sweep.dir={sweep_dir}", *extra]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            command, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"a worker failed; rerun one by hand: {' '.join(command)}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/search_workers.md")
    parser.add_argument("extra", nargs="*", help="overrides for every search")
    args = parser.parse_args()
    walls: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for workers in (1, 2):
                sweep_dir = Path(tmp) / f"w{workers}_{repeat}"
                walls[workers].append(search(workers, sweep_dir, args.n_trials, args.extra))
                print(workers, "worker(s):", f"{walls[workers][-1]:.1f} s", flush=True)
    one, two = statistics.fmean(walls[1]), statistics.fmean(walls[2])
    ratios = [a / b for a, b in zip(walls[1], walls[2], strict=True)]
    sd = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
    table = "\n".join(
        [
            f"{args.n_trials} trials of bilstm_optuna, {args.repeats} repeats, one thread per "
            f"worker ({os.cpu_count()} cores).",
            "",
            "| workers | wall s (mean ± std) | speed-up |",
            "|---|---|---|",
            f"| 1 | {one:.1f} ± {statistics.stdev(walls[1]) if args.repeats > 1 else 0:.1f} | 1 |",
            f"| 2 | {two:.1f} ± {statistics.stdev(walls[2]) if args.repeats > 1 else 0:.1f} "
            f"| {statistics.fmean(ratios):.2f} ± {sd:.2f} |",
        ]
    )
    args.out.write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
