"""Measure what a hostile checkpoint costs before it is refused: time and peak memory.

    python benchmarks/hostile_checkpoint.py            # writes benchmarks/hostile_checkpoint.md

Two files, each holding a 1 GiB float tensor where the model has a small weight:
- `deflated.ckpt`: torch.save's zip recompressed with deflate, about 1 MB on disk;
- `stored.ckpt`: torch.save's own (uncompressed) zip, 1 GiB on disk.
Each is read in a fresh process, once the way lstm-lab reads a checkpoint
(`checkpoints.check_fits`) and once with a plain `torch.load(weights_only=True)`, the way
it read them before; the table gives the wall time and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch

GIB_FLOATS = 1 << 28  # 1 GiB of float32
CHILD = r"""
import json, resource, sys, time
import torch
from lstm_lab.checkpoints import check_fits  # imported by both, so the baselines match
from lstm_lab.errors import ConfigError
route, path = sys.argv[1], sys.argv[2]
model = torch.nn.LSTM(1, 8)
start = time.perf_counter()
try:
    if route == "lstm-lab":
        check_fits(model, path)
        outcome = "accepted"
    else:
        torch.load(path, map_location="cpu", weights_only=True)
        outcome = "loaded"
except ConfigError as error:
    outcome = "refused: " + str(error).split(" (")[1].split(")")[0]
except Exception as error:
    outcome = f"{type(error).__name__}"
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_rss_mib": rss}))
"""


def write_stored(path: Path) -> None:
    """A checkpoint whose weight_ih_l0 is a 1 GiB tensor (torch.empty: its pages stay unmapped)."""
    model = torch.nn.LSTM(1, 8)
    state = dict(model.state_dict())
    state["weight_ih_l0"] = torch.empty(GIB_FLOATS)
    torch.save({"state_dict": state, "global_step": 0}, path)


def deflate(source: Path, target: Path) -> None:
    """The same zip with every record deflated, streamed (no 1 GiB buffer)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            with src.open(info) as reader, dst.open(info.filename, "w", force_zip64=True) as out:
                while chunk := reader.read(64 << 20):
                    out.write(chunk)


def measure(route: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, route, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".md"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent.parent) as folder:
        stored, deflated = Path(folder) / "stored.ckpt", Path(folder) / "deflated.ckpt"
        write_stored(stored)
        deflate(stored, deflated)
        for path in (deflated, stored):
            size = path.stat().st_size / (1 << 20)
            for route in ("lstm-lab", "torch.load"):
                numbers = measure(route, path)
                rows.append((path.name, size, route, numbers))
                print(path.name, route, numbers, flush=True)
    lines = [
        "# A checkpoint holding a 1 GiB tensor where the model has a small weight",
        "",
        "`python benchmarks/hostile_checkpoint.py`: each read in a fresh process that has",
        "imported torch and lstm-lab (about 400 MiB of peak RSS before reading); `lstm-lab` is",
        "`checkpoints.check_fits`, `torch.load` a plain `torch.load(weights_only=True)`; seconds",
        "are the read alone, on a shared 2-core machine.",
        "",
        "| file | size on disk | reader | outcome | seconds | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for name, size, route, n in rows:
        lines.append(
            f"| {name} | {size:,.1f} MiB | {route} | {n['outcome']} | {n['seconds']:.3f} "
            f"| {n['peak_rss_mib']:,.0f} MiB |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
