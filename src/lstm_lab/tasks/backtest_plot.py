"""The backtest figure: every window's forecasts on the series, and the error per horizon step."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_lab.plotting import pyplot, save_figure
from lstm_lab.tasks.forecasts import Forecasts
from lstm_lab.tasks.series_plot import STYLES, draw_bands


def plot_backtest(
    datamodule,
    forecasts: Forecasts,
    errors: pd.DataFrame,
    path: Path,
    title: str,
    bands: dict | None = None,
) -> Path:
    """Above: the series' tail and the LSTM's forecast of each window, with its intervals
    (`bands`: level -> (lower, upper), (windows, H)) shaded; below: MAPE by step."""
    plt = pyplot()
    series = datamodule.series
    fig, (ax_series, ax_error) = plt.subplots(2, 1, figsize=(10, 7), constrained_layout=True)
    first = forecasts.time.min()
    span = forecasts.time.max() - first
    view = series.time >= first - span * 0.5
    ax_series.plot(series.time[view], series.values[view], color="tab:blue", lw=1.3, label="actual")
    lstm = forecasts.predicted["lstm"]
    for i in range(len(lstm)):
        label = "LSTM, one line per window" if i == 0 else None
        if bands:
            window = {lv: (lo[i], hi[i]) for lv, (lo, hi) in bands.items()}
            draw_bands(ax_series, forecasts.time[i], window, labelled=i == 0)
        ax_series.plot(forecasts.time[i], lstm[i], color="tab:red", lw=1.0, alpha=0.7, label=label)
        ax_series.axvline(forecasts.origin_time[i], color="0.85", lw=0.6, zorder=0)
    ax_series.set_title(f"{title}: {len(lstm)} windows (grey lines: their origins)")
    ax_series.legend(loc="upper left", fontsize=9)
    ax_series.grid(alpha=0.3)
    for name, rows in errors.groupby("model", sort=False):
        style = {k: v for k, v in STYLES.get(name, {}).items() if k != "zorder"}
        style["marker"] = style.get("marker") or "."
        ax_error.plot(rows["step"], rows["mape"], label=name, **style)
    ax_error.set_xlabel("horizon step")
    ax_error.set_ylabel("MAPE over the windows (%)")
    ax_error.legend(ncol=3, fontsize=9)
    ax_error.grid(alpha=0.3)
    return save_figure(fig, path)
