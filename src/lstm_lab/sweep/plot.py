"""comparison.png: a sweep's validation curves overlaid, and its final metric per swept value."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from lstm_lab.plotting import pyplot, save_figure
from lstm_lab.status import Status
from lstm_lab.sweep.curves import read_curve
from lstm_lab.sweep.jobs import Job, varying_keys
from lstm_lab.sweep.stats import CONFIDENCE, MIN_SEEDS, describe
from lstm_lab.sweep.summary import SEED_KEY, Group, group_jobs

# A grid with more lines than this in the metric panel shows the job history instead.
MAX_SERIES = 8
MAX_LEGEND = 12


def is_grid(groups: list[Group]) -> bool:
    """True for a grid sweep (every combination of the swept values ran), False for a search."""
    keys = list(groups[0].values) if groups else []
    combinations = math.prod(len({g.values[k] for g in groups}) for k in keys)
    return combinations == len(groups)


def mean_curve(group: Group, tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """x (training sequences seen), mean and std over the group's seeds at the common steps."""
    # A pruned trial's curve is drawn too, up to the step where it stopped.
    drawn = [job for job in group.jobs if job.status.has_result]
    curves = [(job, dict(read_curve(job.folder, tag))) for job in drawn]
    curves = [(job, curve) for job, curve in curves if curve]
    if not curves:
        return np.empty(0), np.empty(0), np.empty(0), 0
    steps = sorted(set.intersection(*(set(curve) for _, curve in curves)))
    values = np.array([[curve[s] for s in steps] for _, curve in curves])
    std = values.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(len(steps))
    # Lightning logs a validation after N batches at step N - 1.
    seen = (np.array(steps) + 1) * (curves[0][0].batch_size or 1)
    return seen, values.mean(axis=0), std, len(curves)


def _plot_curves(ax, groups: list[Group], tag: str, colors: list, grid: bool) -> None:
    for group, color in zip(groups, colors, strict=False):
        x, mean, std, n = mean_curve(group, tag)
        if not n:
            continue
        # A search's groups are single jobs with long labels: name them by job number.
        label = f"{group.label} (n={n})" if grid else f"job {group.jobs[0].num}"
        pruned = all(job.status is Status.PRUNED for job in group.jobs)
        ax.plot(x, mean, color=color, lw=1.6, label=label + (" (pruned)" if pruned else ""))
        if pruned:  # where the pruner stopped it
            ax.plot(x[-1:], mean[-1:], marker="x", ms=9, mew=2, color=color, ls="none")
        if n > 1:
            ax.fill_between(
                x, np.clip(mean - std, 1e-12, None), mean + std, color=color, alpha=0.18
            )
    known = all(job.batch_size for group in groups for job in group.jobs)
    ax.set_xlabel("training sequences seen" if known else "training step")
    ax.set_ylabel(tag)
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    title = "mean over seeds, band ±1 std" if grid else "one line per job"
    ax.set_title(f"{tag}: {title}", fontsize=10)
    if len(groups) <= MAX_LEGEND and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)  # none when no job has a curve yet


def _as_numbers(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _plot_metric_by_value(ax, groups: list[Group], keys: list[str], metric: str, colors) -> None:
    x_key, series_keys = keys[0], keys[1:]
    series: dict[tuple[str, ...], list[Group]] = {}
    for group in groups:
        series.setdefault(tuple(group.values[k] for k in series_keys), []).append(group)
    categories = list(dict.fromkeys(group.values[x_key] for group in groups))
    numbers = _as_numbers(categories)
    for (values, members), color in zip(series.items(), colors, strict=False):
        points = []
        for group in members:
            stats = describe(group.values_of(metric))
            position = categories.index(group.values[x_key])
            x = numbers[position] if numbers else position
            # No bar where too few seeds give no interval.
            below, above = (
                (0.0, 0.0)
                if stats.n < MIN_SEEDS
                else (stats.mean - stats.low, stats.high - stats.mean)
            )
            points.append((x, stats.mean, below, above))
        if len(series) == 1 and numbers is None:
            # One point per variant: each in the colour of its curve on the left.
            for (x, mean, low, high), own in zip(points, colors, strict=False):
                ax.errorbar(x, mean, yerr=[[low], [high]], color=own, marker="o", capsize=4)
            continue
        points.sort()
        xs, means, below, above = zip(*points, strict=True)
        label = ", ".join(f"{k}={v}" for k, v in zip(series_keys, values, strict=True))
        ax.errorbar(
            xs,
            means,
            yerr=[below, above],
            color=color,
            marker="o",
            capsize=4,
            linestyle="-" if numbers else "none",
            label=label or None,
        )
    if numbers is None:
        ax.set_xticks(range(len(categories)), categories, rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.5, len(categories) - 0.5)
    ax.set_xlabel(x_key)
    ax.set_ylabel(f"{metric} (mean, {CONFIDENCE:.0%} CI over seeds)")
    if len(series) > 1:
        ax.legend(fontsize=8)


def _plot_history(ax, jobs: list[Job], metric: str, direction: str | None) -> None:
    done = [(job.num, job.metrics[metric]) for job in jobs if metric in job.metrics]
    if not done:
        return
    nums, values = zip(*done, strict=True)
    ax.plot(nums, values, "o", color="tab:blue", label="job")
    if direction in ("minimize", "maximize"):
        best = np.minimum.accumulate if direction == "minimize" else np.maximum.accumulate
        ax.step(nums, best(np.array(values)), where="post", color="tab:red", label="best so far")
        ax.legend(fontsize=8)
    ax.set_xlabel("job number (search order)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if min(values) > 0 and max(values) > 20 * min(values):
        ax.set_yscale("log")  # a search's values often span orders of magnitude


def plot_comparison(
    jobs: list[Job], metric: str, path: Path, title: str, direction: str | None = None
) -> Path:
    """Left: validation loss curves, one line per group of seeds; right: `metric` per value.

    For a grid the right panel shows `metric` against the first swept key (one line per
    value of the others, error bars over seeds); for a search (Optuna), each job's `metric`
    in search order, with the best so far when `direction` is known.
    """
    plt = pyplot()
    groups = group_jobs(jobs)
    keys = [k for k in varying_keys(jobs) if k != SEED_KEY]
    palette = plt.get_cmap("tab10" if len(groups) <= 10 else "viridis")
    colors = [
        palette(i if len(groups) <= 10 else i / max(len(groups) - 1, 1)) for i in range(len(groups))
    ]

    fig, (ax_curves, ax_metric) = plt.subplots(
        1, 2, figsize=(14, 5.2), gridspec_kw={"width_ratios": [3, 2]}, constrained_layout=True
    )
    grid = is_grid(groups)
    _plot_curves(ax_curves, groups, "val/loss", colors, grid)
    if len(groups) > 10:
        # Too many lines for a legend: the colour says which job (search order) drew it.
        jobs_range = plt.Normalize(groups[0].jobs[0].num, groups[-1].jobs[0].num)
        mappable = plt.cm.ScalarMappable(norm=jobs_range, cmap=palette)
        fig.colorbar(mappable, ax=ax_curves, label="job number", pad=0.01)

    n_series = len({tuple(g.values[k] for k in keys[1:]) for g in groups}) if keys else 0
    if keys and grid and n_series <= MAX_SERIES:
        _plot_metric_by_value(ax_metric, groups, keys, metric, colors)
        panel = f"final {metric}: mean and Student-t {CONFIDENCE:.0%} CI over seeds"
        ax_metric.set_title(panel, fontsize=10)
    else:
        _plot_history(ax_metric, jobs, metric, direction)
        ax_metric.set_title(f"final {metric} of each job", fontsize=10)
        ax_metric.set_ylabel(metric)
    ax_metric.grid(alpha=0.3)
    counts = Counter(job.status for job in jobs if job.status is not Status.COMPLETED)
    notes = [
        f"{n} {status}" + (" (x: where)" if status is Status.PRUNED else "")
        for status, n in counts.items()
    ]
    note = f" ({', '.join(notes)} of {len(jobs)} jobs)" if notes else ""
    fig.suptitle(f"{title}{note}")
    return save_figure(fig, path)
