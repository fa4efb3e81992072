"""Does pruning pay? Each shipped search with and without a pruner, same trials, three seeds.

    python benchmarks/search_pruning.py --out benchmarks/search_pruning.md

Every search runs as users run it (`python train.py -m hparams_search=X`), one process at a
time, with sampler seeds 0, 1, 2 and the same `n_trials`; runs with and without pruning are
interleaved so a machine that slows down mid-way does not favour either. The table gives the
wall time of the whole search and the best trial's val/best and test metric (mean ± std over
the seeds). Takes about 40 minutes per search on 2 cores with the default 20 trials.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
SEARCHES = {"bilstm_optuna": "test/seq_acc", "stacked_lstm_optuna": "test/mse"}


def search(name: str, seed: int, pruner: str, sweep_dir: Path, extra: list[str]) -> dict:
    """One whole search in its own process: wall time, best value and its test metric."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "train.py", "-m", f"hparams_search={name}"]
        + [f"hydra.sweeper.sampler.seed={seed}", f"hydra.sweeper.pruner={pruner}"]
        + [f"hydra.sweep.dir={sweep_dir}", *extra],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    metrics = json.loads((Path(best.best.job_dir) / "metrics.json").read_text())
    return {
        "wall": wall,
        "val/best": best.best.value,
        "test": metrics[SEARCHES[name]],
        "pruned": best.trials.pruned,
    }


def spread(values: list[float], digits: int = 3) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}g} ± {sd:.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", nargs="+", default=list(SEARCHES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pruners", nargs="+", default=["none", "median", "successive_halving"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/search_pruning.md")
    parser.add_argument("extra", nargs="*", help="overrides for every search, e.g. n_trials")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.searches:
            results: dict[str, list[dict]] = {p: [] for p in args.pruners}
            for seed in args.seeds:
                for pruner in args.pruners:  # interleaved
                    sweep_dir = Path(tmp) / f"{name}_{pruner}_{seed}"
                    results[pruner].append(search(name, seed, pruner, sweep_dir, args.extra))
                    print(name, seed, pruner, results[pruner][-1], flush=True)
            base = statistics.fmean(r["wall"] for r in results[args.pruners[0]])
            for pruner, runs in results.items():
                wall = [r["wall"] for r in runs]
                rows.append(
                    f"| {name} | {pruner} | {spread(wall)} | {base / statistics.fmean(wall):.2f}x"
                    f" | {spread([r['val/best'] for r in runs])}"
                    f" | {SEARCHES[name]} {spread([r['test'] for r in runs])}"
                    f" | {statistics.fmean(r['pruned'] for r in runs):.1f} |"
                )
    table = "\n".join(
        [
            f"Seeds {args.seeds}, mean ± std; overrides: {' '.join(args.extra) or 'none'}.",
            "",
            "| search | pruner | wall s | speed-up | best val/best | best trial's test metric "
            "| trials pruned |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    args.out.write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
