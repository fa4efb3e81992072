"""SeriesDataModule: windows of a real series (a CSV file or a bundled data set) for H-step
forecasts, split by time into training, validation and test parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from lstm_lab.data.bundled import load_dataset
from lstm_lab.data.series_file import Series, read_series, season_of
from lstm_lab.data.streams import FixedBatches, ShuffledBatches
from lstm_lab.errors import ConfigError
from lstm_lab.validation import check_bool, check_choice, check_int

KEEPS = ("all", "last")


class SeriesDataModule(pl.LightningDataModule):
    """Windows of `lookback` past values (target first, then covariates) and the next
    `horizon` target values, in the series' own units.

    Positions on the series (N points): the test forecasts start at `test_start` (default:
    the last `horizon` points held out); training sees points up to `train_end` (default: the
    one before `test_start`), and its last `val_size` points are the validation part. With
    `keep: all` the test part is one forecast of `horizon` points from the end of training;
    with `keep: last` it is a forecast from every origin from `test_start` on, each scored on
    its last point (Darts' `historical_forecasts(last_points_only=True)` without refitting).
    Nothing after `train_end` reaches training, validation or scaling statistics.
    """

    # What it holds; train.py refuses a model whose task is not the data's.
    task = "future values"

    def __init__(
        self,
        *,
        path: str | None,
        dataset: str | None,
        time: str,
        target: str,
        covariates: list[str],
        freq: str | None,
        season: int | None,
        horizon: int,
        lookback: int | None,
        val_size: int | None,
        train_end: str | int | None,
        test_start: str | int | None,
        keep: str,
        batch_size: int,
        fit_on_val: bool,
    ) -> None:
        super().__init__()
        self.horizon = check_int("data.horizon", horizon)
        self.val_size = check_int("data.val_size", horizon if val_size is None else val_size)
        self.batch_size = check_int("data.batch_size", batch_size)
        self.keep = check_choice("data.keep", keep, KEEPS)
        self.fit_on_val = check_bool("data.fit_on_val", fit_on_val)
        if (path is None) == (dataset is None):
            raise ConfigError(
                "set exactly one of data.path=<a CSV file> and data.dataset=<a bundled series>."
            )
        if dataset is not None:
            self.series = load_dataset(dataset)
        else:
            self.series = read_series(str(path), time, target, list(covariates or []), freq)
        self.season = season if season is not None else season_of(self.series.freq)
        if self.season is None:
            raise ConfigError(
                f"data.freq={self.series.freq} has no usual season length: set data.season."
            )
        season = check_int("data.season", self.season)
        self.lookback = check_int("data.lookback", 2 * season if lookback is None else lookback)
        # After `season` is known: the model logs the same value, and Lightning merges both.
        self.save_hyperparameters()
        self._split(train_end, test_start)
        self._build()

    def _split(self, train_end: str | int | None, test_start: str | int | None) -> None:
        series, n, h = self.series, len(self.series), self.horizon
        needed = self.lookback + self.val_size + 2 * h
        if n < needed:
            raise ConfigError(
                f"{series.source} has {n} points, too short for data.lookback={self.lookback}, "
                f"data.val_size={self.val_size} and twice data.horizon={h} (training and test "
                f"targets): it needs at least {needed}; shorten them or use a longer series."
            )
        start = series.position(test_start, "data.test_start") if test_start is not None else n - h
        end = series.position(train_end, "data.train_end") if train_end is not None else start - 1
        last_origin = n - 1 - h
        if self.keep == "all":
            origins = [start - 1]
            if start + h > n:
                raise ConfigError(
                    f"data.test_start={test_start} leaves {n - start} points after it, fewer "
                    f"than data.horizon={h}: start the test earlier or lower data.horizon."
                )
        else:
            origins = list(range(start - 1, last_origin + 1))
        first_target = origins[0] + (h if self.keep == "last" else 1)
        if not origins or first_target <= end:
            raise ConfigError(
                f"data.train_end={train_end} reaches the test targets (the first is "
                f"{series.time[min(first_target, n - 1)].date()}): end training before it."
            )
        self.train_end, self.test_origins = end, np.asarray(origins)
        # Training windows' targets end `val_size` points before train_end.
        self.n_train = end - self.val_size - h - self.lookback + 2
        if self.n_train < 1 or origins[0] < self.lookback - 1:
            raise ConfigError(
                f"{series.source}: data.train_end={series.time[end].date()} leaves "
                f"{max(self.n_train, 0)} training windows of data.lookback={self.lookback} and "
                f"data.horizon={h} before the last data.val_size={self.val_size} points: "
                "shorten them or train on more of the series."
            )

    def _build(self) -> None:
        series = self.series
        # (N, F): the target, then the covariates, in float64 (scaling statistics, baselines).
        self.values = torch.from_numpy(np.column_stack([series.values, series.covariates]))
        # Windows are strided views of one float32 copy: a million-row file costs no more.
        values = self.values.float()
        self._inputs = values.unfold(0, self.lookback, 1).transpose(1, 2)  # (N-L+1, L, F)
        self._targets = values[:, 0].unfold(0, self.horizon, 1)  # (N-H+1, H)
        first = self.lookback - 1
        # fit_on_val: the validation windows train too (they still pick the checkpoint).
        stop = self.train_end - self.horizon + 1 if self.fit_on_val else first + self.n_train
        self.train = self.windows(first, stop)
        self.val = self.windows(first + self.n_train, self.train_end - self.horizon + 1)
        self.test = self.windows(int(self.test_origins[0]), int(self.test_origins[-1]) + 1)

    @property
    def model_arguments(self) -> dict[str, Any]:
        """What the model's shape depends on: the horizon, the season and the input width."""
        return {
            "horizon": self.horizon,
            "season": self.season,
            "input_size": self.values.shape[1],
        }

    def inputs(self, origins: np.ndarray) -> Tensor:
        """The `lookback` points ending at each origin: (n, lookback, F) float32."""
        return self._inputs[torch.as_tensor(origins) - (self.lookback - 1)]

    def windows(self, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """Origins start..stop-1: inputs (n, lookback, F) and next `horizon` targets (n, H)."""
        return self._inputs[start - self.lookback + 1 : stop - self.lookback + 1], self._targets[
            start + 1 : stop + 1
        ]

    def training_values(self) -> Tensor:
        """The points up to train_end (N_train, F), float64: all that scaling may look at."""
        return self.values[: self.train_end + 1]

    def train_dataloader(self) -> ShuffledBatches:
        return ShuffledBatches.for_trainer(self.train, self.batch_size, self.trainer)

    def val_dataloader(self) -> FixedBatches:
        return FixedBatches(self.val)

    def test_dataloader(self) -> FixedBatches:
        return FixedBatches(self.test)


__all__ = ["SeriesDataModule", "Series"]
