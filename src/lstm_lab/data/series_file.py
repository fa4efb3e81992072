"""A time series read from a CSV file (pandas), checked row by row: one sentence per bad file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_lab.errors import ConfigError

# The usual season length of each pandas frequency's base unit (statsforecast's and
# NeuralForecast's conventions); anything else needs data.season.
SEASONS = {
    "h": 24,
    "D": 7,
    "B": 5,
    "W": 52,
    "M": 12,
    "MS": 12,
    "ME": 12,
    "Q": 4,
    "QS": 4,
    "QE": 4,
    "min": 60,
    "Y": 1,
    "YS": 1,
    "YE": 1,
}


@dataclass
class Series:
    """A regular series: timestamps, target values and past covariates, in file order."""

    time: pd.DatetimeIndex  # (N,)
    values: np.ndarray  # (N,) float64
    covariates: np.ndarray  # (N, C) float64
    freq: str
    source: str  # the file or data set, for messages and plots
    target: str  # the target column's name

    def __len__(self) -> int:
        return len(self.values)

    def future_time(self, horizon: int) -> pd.DatetimeIndex:
        """The `horizon` timestamps after the last one."""
        return pd.date_range(self.time[-1], periods=horizon + 1, freq=self.freq)[1:]

    def position(self, when: str | int, key: str) -> int:
        """The index of a timestamp (a date pandas reads) or a position (negative from the end)."""
        if isinstance(when, int) and not isinstance(when, bool):
            index = when + len(self) if when < 0 else when
            if not 0 <= index < len(self):
                raise ConfigError(
                    f"{key}={when} is outside the {len(self)} points of {self.source}; "
                    f"use a position between {-len(self)} and {len(self) - 1} or a date."
                )
            return index
        try:
            stamp = pd.Timestamp(str(when))
        except ValueError:
            stamp = None
        found = self.time.get_indexer([stamp]) if stamp is not None else [-1]
        if found[0] < 0:
            raise ConfigError(
                f"{key}={when!r} is not a timestamp of {self.source} (it runs from "
                f"{self.time[0].date()} to {self.time[-1].date()} by {self.freq}): use one of its "
                "timestamps or a position."
            )
        return int(found[0])


def season_of(freq: str) -> int | None:
    """The season length pandas' frequency `freq` implies (12 for monthly), or None."""
    name = pd.tseries.frequencies.to_offset(freq).name.split("-")[0]
    return SEASONS.get(name) or SEASONS.get(name.rstrip("0123456789"))


def _line(index: int) -> int:
    """The file line of data row `index` (the header is line 1)."""
    return int(index) + 2


def read_frame(path: str) -> pd.DataFrame:
    """The whole CSV as text columns; missing, empty and binary files are one sentence."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"data.path={path} does not exist: point it at a CSV file.")
    with file.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise ConfigError(f"data.path={path} is empty: give a CSV with a header row and data.")
    if b"\x00" in head:
        raise ConfigError(f"data.path={path} is a binary file, not a CSV text file.")
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0][:120]
        raise ConfigError(f"data.path={path} is not a readable CSV file ({reason}).") from None
    if frame.empty:
        raise ConfigError(f"data.path={path} has a header but no data rows.")
    return frame


def _column(frame: pd.DataFrame, key: str, name: str, path: str) -> pd.Series:
    if name not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:10]))
        raise ConfigError(
            f"{key}={name!r} is not a column of {path} (its columns: {columns}): "
            f"set {key} to one of them."
        )
    return frame[name]


def _numbers(column: pd.Series, name: str, path: str) -> np.ndarray:
    """A text column as float64; the first missing or non-numeric cell is one sentence."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        text = column.iloc[bad[0]].strip()
        what = f"the value {text!r} is not a number" if text else "the value is missing"
        raise ConfigError(
            f"line {_line(bad[0])} of {path}: {what} in column {name!r}; fix or fill that row."
        )
    return values


def _timestamps(column: pd.Series, name: str, path: str) -> pd.DatetimeIndex:
    stamps = pd.to_datetime(column, errors="coerce", format="mixed")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if len(bad):
        raise ConfigError(
            f"line {_line(bad[0])} of {path}: {column.iloc[bad[0]]!r} in column {name!r} "
            "is not a date or time; fix that row."
        )
    return pd.DatetimeIndex(stamps)


def check_regular(time: pd.DatetimeIndex, freq: str | None, path: str) -> str:
    """The series' frequency (data.freq, or inferred); duplicate, unsorted or irregular
    timestamps are one sentence naming the line."""
    steps = np.diff(time.asi8)
    if len(steps) and (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        how = "repeats" if steps[i - 1] == 0 else "comes before"
        raise ConfigError(
            f"line {_line(i)} of {path}: timestamp {time[i]} {how} the one on line {_line(i - 1)}; "
            "the file needs one row per timestamp, sorted by time."
        )
    if freq is None:
        freq = pd.infer_freq(time) if len(time) >= 3 else None
        if freq is None:
            common = pd.Series(steps).mode().iloc[0] if len(steps) else 0
            odd = np.flatnonzero(steps != common)
            i = int(odd[0]) + 1 if len(odd) else 1
            raise ConfigError(
                f"line {_line(i)} of {path}: timestamp {time[i] if len(time) > 1 else time[0]} "
                f"breaks the regular step of {pd.Timedelta(int(common))} between rows; fill the "
                "gap (or remove the row), or set data.freq."
            )
        return freq
    try:
        expected = pd.date_range(time[0], periods=len(time), freq=freq)
    except ValueError:
        raise ConfigError(
            f"data.freq={freq!r} is not a pandas frequency; use one like D, h, W-SUN, MS or QS."
        ) from None
    odd = np.flatnonzero(expected.asi8 != time.asi8)
    if len(odd):
        i = int(odd[0])
        raise ConfigError(
            f"line {_line(i)} of {path}: timestamp {time[i]} is not the {freq} step after "
            f"{time[i - 1] if i else 'the start'} (expected {expected[i]}); fill the gap or fix "
            "data.freq."
        )
    return freq


def read_series(
    path: str, time: str, target: str, covariates: list[str], freq: str | None
) -> Series:
    """A checked, regular series from a CSV file's time, target and covariate columns."""
    frame = read_frame(path)
    stamps = _timestamps(_column(frame, "data.time", time, path), time, path)
    values = _numbers(_column(frame, "data.target", target, path), target, path)
    extra = [
        _numbers(_column(frame, "data.covariates", name, path), name, path) for name in covariates
    ]
    freq = check_regular(stamps, freq, path)
    stamps = pd.DatetimeIndex(stamps, freq=None)
    matrix = np.stack(extra, axis=1) if extra else np.zeros((len(values), 0))
    return Series(stamps, values, matrix, freq, path, target)
