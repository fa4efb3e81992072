"""Real series from CSV files and bundled data sets: splits, protocols, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import compose_config

from lstm_lab.config import instantiate
from lstm_lab.data.series import SeriesDataModule
from lstm_lab.errors import ConfigError

SETTINGS = dict(
    dataset=None,
    time="date",
    target="sales",
    covariates=[],
    freq=None,
    season=None,
    horizon=7,
    lookback=14,
    val_size=None,
    train_end=None,
    test_start=None,
    keep="all",
    batch_size=16,
    fit_on_val=False,
)


def write_csv(folder: Path, rows: int = 120, freq: str = "D", **columns) -> Path:
    """A daily series with a weekly pattern (or another freq), as a user's file would hold it."""
    days = pd.date_range("2024-01-01", periods=rows, freq=freq)
    sales = 100 + 10 * np.sin(np.arange(rows) * 2 * np.pi / 7) + np.arange(rows) * 0.5
    stamps = days.strftime("%Y-%m-%d") if freq == "D" else days.strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"date": stamps, "sales": sales.round(2), **columns})
    path = folder / "sales.csv"
    frame.to_csv(path, index=False)
    return path


def load(path: Path, **overrides) -> SeriesDataModule:
    return SeriesDataModule(path=str(path), **{**SETTINGS, **overrides})


def rewrite(path: Path, line: int, text: str | None) -> Path:
    """Replace one line of the file (line 1 is the header), or remove it."""
    lines = path.read_text().splitlines()
    lines[line - 1 : line] = [] if text is None else [text]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_daily_csv_infers_its_frequency_and_weekly_season_and_holds_out_the_last_horizon(
    tmp_path,
):
    data = load(write_csv(tmp_path))
    assert (data.series.freq, data.season) == ("D", 7)
    assert data.test_origins.tolist() == [120 - 7 - 1]
    x, y = data.test
    assert x.shape == (1, 14, 1) and y.shape == (1, 7)
    # Validation: the horizon's points before the test part; training ends before them.
    assert data.train_end == 112
    assert len(data.val[0]) == 7
    last_train_target = data.lookback - 1 + len(data.train[0]) - 1 + data.horizon
    assert last_train_target == data.train_end - data.val_size


def test_covariates_are_read_as_extra_inputs(tmp_path):
    path = write_csv(tmp_path, promo=np.arange(120) % 2)
    data = load(path, covariates=["promo"])
    assert data.test[0].shape == (1, 14, 2)
    assert data.model_arguments == {"horizon": 7, "season": 7, "input_size": 2}


def test_a_million_row_file_loads_in_seconds(tmp_path):
    import time

    path = write_csv(tmp_path, rows=1_000_000, freq="min")
    start = time.perf_counter()
    data = load(path, horizon=60, lookback=120)
    assert len(data.series) == 1_000_000
    assert time.perf_counter() - start < 10


BAD_FILES = {
    "missing file": (lambda p: p.parent / "nope.csv", {}, "nope.csv does not exist"),
    "empty file": (lambda p: (p.write_text(""), p)[1], {}, "is empty"),
    "header only": (lambda p: (p.write_text("date,sales\n"), p)[1], {}, "no data rows"),
    "binary file": (lambda p: (p.write_bytes(b"\x89PNG\x00\x01\x02" * 50), p)[1], {}, "binary"),
    "missing time column": (lambda p: p, {"time": "day"}, "data.time='day' is not a column"),
    "missing target column": (lambda p: p, {"target": "units"}, "data.target='units'"),
    "non-numeric target": (
        lambda p: rewrite(p, 6, "2024-01-05,twelve"),
        {},
        "line 6 of .*'twelve' is not a number in column 'sales'",
    ),
    "missing target": (
        lambda p: rewrite(p, 9, "2024-01-08,"),
        {},
        "line 9 of .*the value is missing in column 'sales'",
    ),
    "bad timestamp": (
        lambda p: rewrite(p, 4, "someday,3.0"),
        {},
        "line 4 of .*'someday' in column 'date' is not a date",
    ),
    "duplicate timestamp": (
        lambda p: rewrite(p, 11, "2024-01-09,3.0"),
        {},
        "line 11 of .*2024-01-09 00:00:00 repeats the one on line 10",
    ),
    "unsorted timestamps": (
        lambda p: rewrite(p, 11, "2024-01-02,3.0"),
        {},
        "line 11 of .*comes before the one on line 10",
    ),
    "irregular timestamps": (
        lambda p: rewrite(p, 11, "2024-01-10 12:00,3.0"),
        {},
        "line 1[12] of .*breaks the regular step of 1 days",
    ),
    "gap against data.freq": (
        lambda p: rewrite(p, 11, None),
        {"freq": "D"},
        "line 11 of .*not the D step after",
    ),
    "too short": (lambda p: write_csv(p.parent, rows=30), {}, "has 30 points, too short"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_one_sentence_naming_the_file_and_the_row_or_column(tmp_path, case):
    make, overrides, message = BAD_FILES[case]
    path = make(write_csv(tmp_path))
    with pytest.raises(ConfigError, match=message) as error:
        load(path, **overrides)
    text = str(error.value)
    assert "\n" not in text and text.endswith(".")
    assert path.name in text or "data." in text


def months(data: SeriesDataModule) -> list[str]:
    """The months a protocol scores, from the datamodule's test origins."""
    step = data.horizon if data.keep == "last" else 1
    first = data.test_origins + step
    points = first if data.keep == "last" else np.arange(first[0], first[0] + data.horizon)
    return [t.strftime("%Y-%m") for t in data.series.time[points]]


@pytest.mark.parametrize(
    ("experiment", "count", "first", "last", "train_end"),
    [
        ("air_passengers", 12, "1960-01", "1960-12", "1959-12"),
        ("air_passengers_darts", 19, "1959-06", "1960-12", "1959-01"),
        ("air_passengers_36", 36, "1958-01", "1960-12", "1957-12"),
    ],
)
def test_the_protocols_score_exactly_their_target_months(
    tmp_path, experiment, count, first, last, train_end
):
    data = instantiate(compose_config([f"experiment={experiment}"], tmp_path).data)
    scored = months(data)
    assert (len(scored), scored[0], scored[-1]) == (count, first, last)
    assert data.series.time[data.train_end].strftime("%Y-%m") == train_end


def test_the_long_bundled_series_has_over_2000_points(tmp_path):
    data = instantiate(compose_config(["experiment=co2"], tmp_path).data)
    assert len(data.series) == 2284 and data.season == 52
    assert np.isfinite(data.series.values).all()
