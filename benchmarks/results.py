"""Run every experiment as users do (`python train.py experiment=X seed=S`) and tabulate results.

    python benchmarks/results.py --seeds 1 2 3 4 5 --out benchmarks/results.md

Each run is a separate process, one at a time, timed end to end (imports included). The table
sets our recipes beside the seed's exact recipes and the Keras scripts' figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What the seed's Keras scripts scored on Keras 3.15 / TensorFlow 2.21 CPU: the regression
# as mean ± std over seeds 0-4, the classifiers from one run each.
KERAS = {
    "stacked_lstm": {"test/mse": "0.164 ± 0.027"},
    "lstm": {"test/acc": "0.93 (1 run)", "test/seq_acc": "0.34 (1 run)"},
    "bilstm": {"test/acc": "0.95 (1 run)", "test/seq_acc": "0.55 (1 run)"},
}
TARGETS = {
    "stacked_lstm": {"test/mse": "<= 0.03"},
    "lstm": {"test/acc": ">= 0.997", "test/seq_acc": ">= 0.97"},
    "bilstm": {"test/acc": ">= 0.997", "test/seq_acc": ">= 0.97"},
}
EXPERIMENTS = ["stacked_lstm", "lstm", "bilstm"]


def run(experiment: str, overrides: list[str], seed: int, run_dir: Path) -> tuple[dict, float]:
    """One `python train.py` process, as users run it: its metrics.json and its wall time."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "train.py", f"experiment={experiment}", f"seed={seed}", *overrides]
        + [f"hydra.run.dir={run_dir}"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    return json.loads((run_dir / "metrics.json").read_text()), wall


def summarize(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results.md")
    parser.add_argument("--runs-dir", type=Path, default=REPO / "outputs/results")
    args = parser.parse_args()

    rows = []
    total = len(EXPERIMENTS) * 2 * len(args.seeds)
    print(f"{total} trainings, one at a time; a line after each, a table row after each recipe")
    done = 0
    for task in EXPERIMENTS:
        for variant, experiment in (("Keras recipe", f"{task}_keras"), ("our recipe", task)):
            results = []
            for seed in args.seeds:
                metrics, wall = run(
                    experiment, [], seed, args.runs_dir / f"{experiment}_seed{seed}"
                )
                results.append((metrics, wall))
                done += 1
                scores = "  ".join(f"{m} {metrics[m]:.4g}" for m in KERAS[task])
                print(
                    f"[{done}/{total}] {experiment} seed {seed}: {scores}  {wall:.1f} s", flush=True
                )
            for metric, keras in KERAS[task].items():
                values = [m[metric] for m, _ in results]
                rows.append(
                    f"| `{experiment}` | {variant} | `{metric}` | {keras} | "
                    f"{summarize(values, 4)} | "
                    f"{TARGETS[task][metric] if variant == 'our recipe' else ''} | "
                    f"{statistics.median(w for _, w in results):.1f} s |"
                )
            print(rows[-1], flush=True)

    header = (
        f"Seeds {', '.join(map(str, args.seeds))}: mean ± std over seeds; wall = median whole "
        "`python train.py` process time (imports, fit, test, checkpoints, plot) on this "
        "machine's 2 CPU cores.\n\n"
        "| experiment | recipe | metric | Keras script | lstm-lab | target | wall |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    args.out.write_text(header + "\n".join(rows) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
