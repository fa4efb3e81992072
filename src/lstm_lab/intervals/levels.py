"""Interval levels (percent) and the quantile levels they stand for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lstm_lab.errors import ConfigError

DEFAULT_LEVELS = (80.0, 90.0, 95.0)


def check_levels(value: Any) -> tuple[float, ...]:
    """`intervals.levels`: a non-empty list of distinct percentages strictly between 0 and 100."""
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
    ok = bool(items) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 100 for v in items
    )
    if not ok or len(set(items)) != len(items):
        raise ConfigError(
            f"intervals.levels={value!r} is invalid: set it to distinct percentages between 0 and "
            "100, e.g. intervals.levels=[80,90,95]."
        )
    return tuple(sorted(float(v) for v in items))


def level_name(level: float) -> str:
    """How a level appears in metric and column names: 80.0 -> '80', 97.5 -> '97.5'."""
    return f"{level:g}"


def quantile_levels(levels: Iterable[float]) -> tuple[float, ...]:
    """The median and both ends of every interval, ascending: (80, 90) -> 0.05, 0.1, 0.5, 0.9, 0.95.

    NeuralForecast's `level` -> quantile mapping (its MQLoss(level=...)).
    """
    qs = {0.5}
    for level in levels:
        tail = (100.0 - level) / 200.0
        qs.update((round(tail, 10), round(1.0 - tail, 10)))
    return tuple(sorted(qs))
