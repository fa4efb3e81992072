"""The forecast entry point: the next `data.horizon` points past the end of a run's series.

    python predict.py run_dir=<run>                      # past the run's own data
    python predict.py run_dir=<run> data.path=newer.csv  # past a newer file's last point

Prints the forecast and writes `<run>/predict/forecast.csv` (the time column, then the
target's). The run folder is read as data, as eval.py reads it.
"""

from __future__ import annotations

import logging
from typing import Any

import hydra
import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from lstm_lab.cli import launch, one_sentence_errors
from lstm_lab.config import CONFIG_DIR
from lstm_lab.errors import ConfigError
from lstm_lab.finished_run import load_run
from lstm_lab.intervals.levels import level_name
from lstm_lab.tasks.series_intervals import lstm_bands
from lstm_lab.validation import WRITABLE_FIX, check_int, check_writable_dir

log = logging.getLogger(__name__)


def forecast_frame(
    model: torch.nn.Module, datamodule, time: str, target: str, intervals: Any = None
) -> pd.DataFrame:
    """The model's forecast from the series' last point: the next H timestamps and values,
    and `lower_<L>`, `upper_<L>` per interval level, calibrated on the whole series."""
    series = datamodule.series
    origin = np.asarray([len(series) - 1])
    if intervals is None:
        model.eval()
        with torch.no_grad():
            out = model(datamodule.inputs(origin)).double().numpy()  # (1, H[, Q])
        values = model.point_of(out)[0]  # (H,)
        return pd.DataFrame({time: series.future_time(len(values)), target: values})
    point, bands = lstm_bands(model, datamodule, origin, len(series) - 1, intervals)
    frame = pd.DataFrame({time: series.future_time(point.shape[1]), target: point[0]})
    for level, (lower, upper) in bands.items():
        frame[f"lower_{level_name(level)}"] = lower[0]
        frame[f"upper_{level_name(level)}"] = upper[0]
    return frame


def predict(cfg: DictConfig) -> pd.DataFrame:
    """Load the run, read the newer file if given, forecast, print and write forecast.csv."""
    if cfg.get("num_threads") is not None:
        torch.set_num_threads(check_int("num_threads", cfg.num_threads))
    newer = cfg.data.path
    # A newer file replaces the run's data; the whole file is history, none of it held out.
    data = {"path": str(newer), "dataset": None} if newer else {}
    data |= {"train_end": None, "test_start": None, "keep": "all"} if newer else {}
    run = load_run(cfg.get("ckpt_path"), cfg.get("run_dir"), data=data)
    if not hasattr(run.datamodule, "series"):
        raise ConfigError(
            f"run_dir={run.dir} is a {type(run.datamodule).__name__} run; predict.py forecasts "
            "runs of a real series (experiment=forecast_csv, air_passengers, ...)."
        )
    out = check_writable_dir(run.dir / "predict", f"predict/ into {run.dir}", WRITABLE_FIX)
    time = run.datamodule.hparams.time
    target = run.datamodule.series.target
    intervals = getattr(run.task, "intervals", None)
    frame = forecast_frame(run.model, run.datamodule, time, target, intervals)
    frame.to_csv(out / "forecast.csv", index=False)
    print(f"Forecast of {run.name} from {run.datamodule.series.source}, after its last point:")
    print(frame.to_string(index=False))
    print(f"\nWritten: {out / 'forecast.csv'}")
    return frame


main = hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="predict")(
    one_sentence_errors(predict)
)


def cli() -> None:
    """`python predict.py ...`: one-sentence errors where Hydra would print a traceback."""
    launch(main, "predict")
