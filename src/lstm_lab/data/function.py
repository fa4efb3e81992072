"""The seed's first example: windows of f(x) = x*sin(x) (or `fn`) predicting the next value."""

from __future__ import annotations

import pytorch_lightning as pl
from torch import Tensor

from lstm_lab.data.functions import get_function, make_series
from lstm_lab.data.streams import FixedBatches, ShuffledBatches
from lstm_lab.errors import ConfigError
from lstm_lab.validation import check_choice, check_float, check_int

SCALES = ("standard", "none")


def make_windows(ys: Tensor, lookback: int) -> tuple[Tensor, Tensor]:
    """All windows of `lookback` values, shaped (N, lookback, 1), and the value after each."""
    windows = ys.unfold(0, lookback, 1)[: len(ys) - lookback]
    return windows.unsqueeze(-1), ys[lookback:]


class FunctionDataModule(pl.LightningDataModule):
    """Chronological train/val/test windows of a function's series (x*sin(x) by default);
    the test part is the seed's last 20%.

    `fn` picks another function and `noise_std` adds observation noise (data/functions.py).
    With `horizon` > 1 each training and validation window carries its next `horizon` values,
    for models trained on multi-step forecasts; test windows always carry the next value only.
    """

    # What it holds; train.py refuses a model whose task is not the data's.
    task = "next values"

    def __init__(
        self,
        *,
        lookback: int,
        train_ratio: float,
        val_fraction: float,
        scale: str,
        batch_size: int,
        fn: str,
        noise_std: float,
        noise_seed: int,
        horizon: int,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_int("data.lookback", lookback)
        check_float("data.train_ratio", train_ratio, 0, 1, low_open=True, high_open=True)
        check_float("data.val_fraction", val_fraction, 0, 1, high_open=True)
        check_choice("data.scale", scale, SCALES)
        check_int("data.batch_size", batch_size)
        check_float("data.noise_std", noise_std, 0)
        check_int("data.noise_seed", noise_seed, minimum=0)
        check_int("data.horizon", horizon)
        self.formula = get_function(fn).formula
        self.fn = fn
        self.noise_std = noise_std
        self.noise_seed = noise_seed
        self.horizon = horizon
        self.lookback = lookback
        self.train_ratio = train_ratio
        self.val_fraction = val_fraction
        self.scale = scale
        self.batch_size = batch_size
        self._build()

    def _build(self) -> None:
        self.xs, ys = make_series(self.fn, self.noise_std, self.noise_seed)
        n_windows = max(len(ys) - self.lookback, 0)
        split = int(n_windows * self.train_ratio)  # the seed's split position
        n_val = round(split * self.val_fraction)
        n_train = split - n_val
        if n_train < 1 or n_windows - split < 1 or (self.val_fraction > 0 and n_val < 1):
            raise ConfigError(
                f"data.lookback={self.lookback}, data.train_ratio={self.train_ratio} and "
                f"data.val_fraction={self.val_fraction} leave {n_train} training, {n_val} "
                f"validation and {n_windows - split} test windows of the {len(ys)}-point series: "
                "use a shorter lookback or ratios that leave every part at least one window."
            )
        x, y = make_windows(ys, self.lookback)
        # Every window of a part needs `horizon` targets inside that part.
        limit, part = (n_val, "validation") if n_val else (n_train, "training")
        if not 1 <= self.horizon <= limit:
            raise ConfigError(
                f"data.horizon={self.horizon} must be between 1 and {limit}, the number of "
                f"{part} windows; lower it."
            )
        # float64 copies for the baselines, whose exact fits float32 rounding would blur.
        self.series, self.n_train, self.split = ys, n_train, split
        self.ys = ys.float()
        self.train = self._part(x, y, ys, 0, n_train)
        self.val = self._part(x, y, ys, n_train, split)
        self.test = (x[split:].float(), y[split:].float())
        # Targets of window i sit at series index i + lookback, so the test targets are
        # the last len(test) points: their x positions, for plots.
        self.test_xs = self.xs[self.lookback + split :].float()
        # Statistics come only from values the training windows see (inputs and targets).
        train_values = ys[: n_train + self.lookback]
        if self.scale == "standard":
            self._loc, self._scale = float(train_values.mean()), float(train_values.std())
        else:
            self._loc, self._scale = 0.0, 1.0

    def _part(
        self, x: Tensor, y: Tensor, ys: Tensor, start: int, stop: int
    ) -> tuple[Tensor, Tensor]:
        """Windows start..stop-1 and their targets; multi-step targets stay inside the part."""
        if self.horizon == 1:
            return x[start:stop].float(), y[start:stop].float()
        stop = max(stop - self.horizon + 1, start)
        future = ys.unfold(0, self.horizon, 1)[self.lookback + start : self.lookback + stop]
        return x[start:stop].float(), future.float()

    @property
    def scaling(self) -> tuple[float, float]:
        """(loc, scale) the model uses to standardise inputs and targets."""
        return self._loc, self._scale

    def training_windows(self) -> tuple[Tensor, Tensor]:
        """The training part's windows (N, lookback, 1) and next values (N,), in float64."""
        x, y = make_windows(self.series, self.lookback)
        return x[: self.n_train], y[: self.n_train]

    def test_windows(self) -> tuple[Tensor, Tensor]:
        """The test part's windows and next values in float64 (`test` holds float32)."""
        x, y = make_windows(self.series, self.lookback)
        return x[self.split :], y[self.split :]

    def train_dataloader(self) -> ShuffledBatches:
        return ShuffledBatches.for_trainer(self.train, self.batch_size, self.trainer)

    def val_dataloader(self) -> FixedBatches:
        # The whole split as one batch: it is tiny, and one batch means one step of overhead.
        return FixedBatches(self.val)

    def test_dataloader(self) -> FixedBatches:
        return FixedBatches(self.test)
