"""Real series that installed packages ship, so no experiment downloads anything at run time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_lab.data.series_file import Series
from lstm_lab.errors import ConfigError


def air_passengers() -> Series:
    """Box & Jenkins' monthly airline passengers 1949-1960 (144 values), from statsforecast."""
    from statsforecast.utils import AirPassengersDF

    # statsforecast stamps each month at its end; the protocols name months by their start.
    time = pd.DatetimeIndex(AirPassengersDF["ds"]).to_period("M").to_timestamp()
    values = AirPassengersDF["y"].to_numpy(dtype=np.float64)
    return Series(time, values, np.zeros((len(values), 0)), "MS", "air_passengers", "y")


def co2() -> Series:
    """Mauna Loa weekly CO2 1958-2001 (2,284 weeks), as statsmodels ships it; its 59 missing
    weeks are filled by linear interpolation between their neighbours."""
    from statsmodels.datasets import co2 as dataset

    frame = dataset.load_pandas().data
    values = frame["co2"].interpolate(method="linear").to_numpy(dtype=np.float64)
    time = pd.DatetimeIndex(frame.index, freq=None)
    return Series(time, values, np.zeros((len(values), 0)), "W-SAT", "co2", "co2")


DATASETS = {"air_passengers": air_passengers, "co2": co2}


def load_dataset(name: str) -> Series:
    """A bundled series by name (data.dataset)."""
    if name not in DATASETS:
        raise ConfigError(
            f"data.dataset={name!r} is not a bundled series: use one of {', '.join(DATASETS)}, "
            "or data.dataset=null with data.path=<your CSV>."
        )
    return DATASETS[name]()
