"""What a run writes and prints: atomic JSON files and metric tables."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write then rename, so a killed process never leaves a half-written file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def format_table(metrics: dict[str, float]) -> str:
    """Two aligned columns, metric and value, for the terminal and train.log."""
    width = max(len(k) for k in metrics)
    rows = [f"  {'metric':<{width}}  value", f"  {'-' * width}  ------"]
    rows += [f"  {k:<{width}}  {v:.6g}" for k, v in metrics.items()]
    return "\n".join(rows)
