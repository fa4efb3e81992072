"""The forecast figure of a real series: the data, the scored points, every model's forecasts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstm_lab.plotting import pyplot, save_figure
from lstm_lab.tasks.forecasts import Forecasts

STYLES = {
    "lstm": dict(color="tab:red", marker="o", lw=2.0, zorder=5),
    "seasonal_naive": dict(color="0.45", marker="", lw=1.0, ls=":"),
    "auto_ets": dict(color="tab:green", marker="", lw=1.0, ls="--"),
    "auto_arima": dict(color="tab:purple", marker="", lw=1.0, ls="--"),
    "auto_theta": dict(color="tab:orange", marker="", lw=1.0, ls="-."),
}


def draw_bands(
    ax, times: np.ndarray, bands: dict, order: np.ndarray | None = None, labelled: bool = True
) -> None:
    """The LSTM's intervals as shaded bands, the widest palest, labelled by level."""
    order = np.arange(len(times)) if order is None else order
    for i, level in enumerate(sorted(bands, reverse=True)):
        lower, upper = bands[level]
        shade = 0.12 + 0.12 * i
        label = f"LSTM {level:g}% interval" if labelled else None
        ax.fill_between(
            times[order], lower[order], upper[order], color="tab:red", alpha=shade, lw=0,
            label=label, zorder=1,
        )  # fmt: skip


def plot_series_forecasts(
    datamodule, forecasts: Forecasts, path: Path, title: str, bands: dict | None = None
) -> Path:
    """Whole series above, the scored part below; each model drawn on the points scored, the
    LSTM's intervals (`bands`: level -> (lower, upper), (n, H)) shaded around it."""
    plt = pyplot()
    series = datamodule.series
    mask = forecasts.scored
    times = forecasts.time[mask]
    order = np.argsort(times)
    fig, (ax_full, ax_zoom) = plt.subplots(
        2, 1, figsize=(10, 7), gridspec_kw={"height_ratios": [1, 1]}, constrained_layout=True
    )
    train_end = series.time[datamodule.train_end]
    for ax in (ax_full, ax_zoom):
        ax.axvspan(times.min(), times.max(), color="0.93", zorder=0)
        ax.axvline(train_end, color="0.6", lw=0.8, ls="--")
        ax.plot(
            series.time, series.values, color="tab:blue", lw=1.3, label=f"actual {series.target}"
        )
        if bands:
            masked = {lv: (lo[mask], hi[mask]) for lv, (lo, hi) in bands.items()}
            draw_bands(ax, times, masked, order)
        for name, predicted in forecasts.predicted.items():
            style = dict(STYLES.get(name, dict(marker="", lw=1.0)))
            actual, values = forecasts.actual[mask], predicted[mask]
            mape = float(np.mean(np.abs(values - actual) / np.abs(actual)) * 100)
            label = f"{name} (MAPE {mape:.2f}%)"
            ax.plot(times[order], values[order], ms=3.5, label=label, **style)
        ax.grid(alpha=0.3)
    scored = "last step of each forecast" if forecasts.keep == "last" else "one forecast"
    ax_zoom.set_xlim(times.min() - (times.max() - times.min()) * 0.3, times.max())
    in_view = series.time >= times.min() - (times.max() - times.min()) * 0.3
    low, high = series.values[in_view].min(), series.values[in_view].max()
    if bands:
        widest = bands[max(bands)]
        low, high = min(low, widest[0][mask].min()), max(high, widest[1][mask].max())
    ax_zoom.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))
    ax_zoom.set_title(
        f"test part: {mask.sum()} points ({scored}); dashed line: end of training", fontsize=10
    )
    ax_full.set_title(title)
    ax_full.set_ylabel(series.target)
    ax_full.legend(loc="upper left", ncol=3, fontsize=9)
    return save_figure(fig, path)
