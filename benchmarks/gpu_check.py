"""Train every experiment with `trainer=gpu` as users do and check the recipes' targets.

    python benchmarks/gpu_check.py            # or: make gpu-check

Run it on a machine with a CUDA card; it prints the card, a markdown table for docs/speed.md
and exits non-zero when a target is missed. Without CUDA it says so and exits 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
TARGETS = {
    "bilstm": {"test/acc": (">=", 0.997), "test/seq_acc": (">=", 0.97)},
    "lstm": {"test/acc": (">=", 0.997), "test/seq_acc": (">=", 0.97)},
    "stacked_lstm": {"test/mse": ("<=", 0.03)},
    "bilstm_keras": {},
    "lstm_keras": {},
    "stacked_lstm_keras": {},
}


def main() -> int:
    if not torch.cuda.is_available():
        print("error: no CUDA device here: run the GPU check on a machine with a CUDA card.")
        return 2
    card = torch.cuda.get_device_name(0)
    out_root = REPO / "outputs" / "gpu_check"
    rows, failures = [], []
    for experiment, targets in TARGETS.items():
        run_dir = out_root / experiment
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "train.py",
                f"experiment={experiment}",
                "trainer=gpu",
                f"hydra.run.dir={run_dir}",
                "callbacks.progress_bar.refresh_rate=0",
            ],
            cwd=REPO,
            check=True,
        )
        wall = time.perf_counter() - start
        metrics = json.loads((run_dir / "metrics.json").read_text())
        shown = {k: v for k, v in metrics.items() if k.startswith("test/") and k != "test/loss"}
        for name, (op, bound) in targets.items():
            ok = metrics[name] >= bound if op == ">=" else metrics[name] <= bound
            if not ok:
                failures.append(f"{experiment}: {name}={metrics[name]:.4f}, target {op} {bound}")
        cells = ", ".join(f"{k}={v:.4f}" for k, v in shown.items())
        rows.append(
            f"| `{experiment}` | {cells} | {metrics['time/fit_seconds']:.1f} s | {wall:.1f} s |"
        )
    table = (
        f"GPU check on {card} (torch {torch.__version__}):\n\n"
        "| experiment | test metrics | fit | wall |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    print(table)
    (out_root / "gpu_check.md").write_text(table + "\n")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
