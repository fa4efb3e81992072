"""summary.md and its CSVs: one row per job, the same grouped over seeds, paired comparisons."""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lstm_lab.errors import ConfigError
from lstm_lab.io import atomic_text, atomic_write
from lstm_lab.status import Status
from lstm_lab.sweep.jobs import Job, common_overrides, varying_keys
from lstm_lab.sweep.paired import SEED_KEY, Comparison, compare_variants
from lstm_lab.sweep.stats import (
    ALPHA,
    CONFIDENCE,
    MIN_SEEDS,
    SeedStats,
    describe,
    direction_words,
    format_p,
)

log = logging.getLogger(__name__)
TWO_SEEDS = (
    f"Two {SEED_KEY}s are too few for a confidence interval (its t factor is 12.7: the "
    f"interval would span impossible values); rows with 2 {SEED_KEY}s show mean ± std only. "
    f"Run {MIN_SEEDS} or more {SEED_KEY}s for an interval."
)


@dataclass
class Group:
    """Jobs that differ only in their seed, e.g. one variant of a comparison."""

    values: dict[str, str]
    jobs: list[Job]

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items()) or "all jobs"

    @property
    def completed(self) -> list[Job]:
        return [job for job in self.jobs if job.status is Status.COMPLETED]

    def values_of(self, metric: str) -> list[float]:
        values = (job.metrics.get(metric) for job in self.completed)
        return [v for v in values if v is not None and not math.isnan(v)]


# How the tally names the ways a job can end, in this order; "completed" and "failed" always.
ENDINGS = (Status.COMPLETED, Status.PRUNED, Status.INTERRUPTED, Status.DIVERGED)


def tally(jobs: Iterable[Job]) -> str:
    """`4 completed, 1 interrupted, 0 failed`: each way the jobs ended, counted apart."""
    counts = Counter(job.status for job in jobs)
    parts = [
        f"{counts.pop(status, 0)} {status}"
        for status in ENDINGS
        if status is Status.COMPLETED or counts.get(status)
    ]
    return ", ".join([*parts, f"{sum(counts.values())} failed"])


def metric_names(jobs: Iterable[Job]) -> list[str]:
    """Test metrics first, then the best validation metric, then the fit time."""
    names = {k for job in jobs for k in job.metrics}
    order = {"val/best": 1, "time/fit_seconds": 2}
    return sorted(names, key=lambda k: (order.get(k, 0 if k.startswith("test/") else 3), k))


def group_jobs(jobs: list[Job]) -> list[Group]:
    """Jobs grouped by every swept key except the seed, in the order they first ran."""
    keys = [k for k in varying_keys(jobs) if k != SEED_KEY]
    groups: dict[tuple[str | None, ...], Group] = {}
    for job in jobs:
        values = {k: job.overrides.get(k, "") for k in keys}
        groups.setdefault(tuple(values.values()), Group(values, [])).jobs.append(job)
    return list(groups.values())


def compared_metrics(jobs: list[Job]) -> list[str]:
    """Metrics worth comparing: those not equal in every job (train/steps usually is)."""
    names = metric_names(jobs)
    return [m for m in names if len({job.metrics.get(m) for job in jobs}) > 1]


def write_csv(path: Path, jobs: list[Job]) -> Path:
    """One row per job: number, folder, overrides (whole and by key), metrics, status, error."""
    keys = list(dict.fromkeys(k for job in jobs for k in job.overrides))
    metrics = metric_names(jobs)
    with atomic_text(path) as f:
        writer = csv.writer(f)
        writer.writerow(["job", "folder", "overrides", *keys, *metrics, "status", "error"])
        for job in jobs:
            writer.writerow(
                [job.num, job.folder.name, job.override_line]
                + [job.overrides.get(k, "") for k in keys]
                + [job.metrics.get(m, "") for m in metrics]
                + [job.status, job.error]
            )
    return path


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or math.isnan(value):
        return ""
    return f"{value:.{digits}g}"


def _interval(stats: SeedStats) -> str:
    """`[0.847, 0.902]`, to two significant digits of the interval's half-width."""
    if math.isnan(stats.low):
        return ""
    half = (stats.high - stats.low) / 2
    if half == 0:
        return f"[{_number(stats.low)}, {_number(stats.high)}]"
    decimals = max(0, 1 - math.floor(math.log10(half)))
    return f"[{stats.low:.{decimals}f}, {stats.high:.{decimals}f}]"


def _mean_and_std(stats: SeedStats) -> str:
    """The mean, with its std where there are two seeds (too few for an interval)."""
    return (
        f"{_number(stats.mean)} ± {_number(stats.std, 2)}" if stats.n == 2 else _number(stats.mean)
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(
    jobs: list[Job],
    title: str,
    comparison: Comparison | ConfigError | None = None,
    metric: str | None = None,
) -> str:
    """The summary as Markdown tables, readable as they are in a terminal too.

    With a `comparison`, a table of paired differences follows, then one sentence per variant
    on `metric` (the sweep's optimized metric).
    """
    keys = varying_keys(jobs)
    metrics = metric_names(jobs)
    failed = [job for job in jobs if job.status is not Status.COMPLETED]
    lines = [f"# {title}", "", f"{len(jobs)} jobs: {tally(jobs)}."]
    common = common_overrides(jobs)
    if common:
        lines.append("Every job: " + " ".join(f"`{k}={v}`" for k, v in common.items()) + ".")
    lines += ["", "## Jobs", ""]
    rows = [
        [str(job.num), *(job.overrides.get(k, "") for k in keys)]
        + [_number(job.metrics.get(m)) for m in metrics]
        + [job.status]
        for job in jobs
    ]
    lines += _table(["job", *keys, *metrics, "status"], rows)
    if failed:
        lines += [""] + [f"- job {job.num} {job.status}: {job.error}" for job in failed]

    if SEED_KEY in keys:
        groups = group_jobs(jobs)
        percent = f"{CONFIDENCE:.0%}"
        lines += ["", f"## Mean ± std [{percent} CI] over {SEED_KEY}s", ""]
        lines.append(
            f"The interval is the Student-t {percent} confidence interval of the mean over the "
            f"{SEED_KEY}s that completed (n in `{SEED_KEY}s ok`); summary_seeds.csv holds them."
        )
        lines.append("")
        group_keys = list(groups[0].values)
        rows = []
        for group in groups:
            cells = []
            for name in metrics:
                stats = describe(group.values_of(name))
                spread = f"{_number(stats.mean)} ± {_number(stats.std, 2)} {_interval(stats)}"
                cells.append(spread if stats.n >= MIN_SEEDS else _mean_and_std(stats))
            seeds = f"{len(group.completed)}/{len(group.jobs)}"
            rows.append([*group.values.values(), seeds, *cells])
        lines += _table([*group_keys, f"{SEED_KEY}s ok", *metrics], rows)
        if any(len(group.completed) == 2 for group in groups):
            lines += ["", TWO_SEEDS]
    if isinstance(comparison, Comparison):
        lines += _paired_markdown(comparison, metric)
    elif isinstance(comparison, ConfigError):
        lines += ["", "## Paired comparison", "", f"Not made: {comparison}"]
    return "\n".join(lines) + "\n"


def _paired_markdown(comparison: Comparison, metric: str | None) -> list[str]:
    key, reference, results = comparison.key, comparison.reference, comparison.results
    if not results:
        return []
    n = max(result.n for result in results)
    variants = len({result.variant for result in results})
    lines = ["", f"## Paired comparison with {key}={reference} (same {SEED_KEY}s)", ""]
    text = (
        f"Each {key} minus {reference}, {SEED_KEY} by {SEED_KEY}: the mean difference with its "
        f"{CONFIDENCE:.0%} confidence interval and p from the paired t-test, and p from the "
        f"Wilcoxon signed-rank test. p-values are per comparison, not corrected for the "
        f"{variants} variants or the metrics."
    )
    if 2 ** (1 - n) >= ALPHA:
        # With n pairs the exact test's smallest two-sided p is 2 / 2^n (all signs alike).
        text += (
            f" With {n} {SEED_KEY}s the Wilcoxon test cannot reach p < {ALPHA:.2g} "
            f"(its smallest p is {format_p(2 ** (1 - n))})."
        )
    lines += [text, ""]
    rows = []
    for result in results:
        rows.append(
            [
                result.variant,
                f"{result.metric} ({direction_words(result.metric)})",
                str(result.n),
                result.interval_text() if result.n >= 2 else "",
                format_p(result.p_ttest),
                format_p(result.p_wilcoxon),
                result.verdict,
            ]
        )
    header = [key, "metric", "n", f"difference [{CONFIDENCE:.0%} CI]", "t-test p", "Wilcoxon p"]
    lines += _table([*header, "verdict"], rows)
    shown = metric if any(r.metric == metric for r in results) else results[0].metric
    lines += ["", f"On {shown}:", ""]
    lines += [f"- {result.sentence()}" for result in results if result.metric == shown]
    return lines


def write_seed_csv(path: Path, jobs: list[Job]) -> Path:
    """One row per group of seeds and metric: n, mean, std and the confidence interval."""
    groups = group_jobs(jobs)
    keys = list(groups[0].values) if groups else []
    with atomic_text(path) as f:
        writer = csv.writer(f)
        writer.writerow([*keys, "metric", "n", "mean", "std", "ci_low", "ci_high"])
        for group in groups:
            for metric in metric_names(jobs):
                stats = describe(group.values_of(metric))
                numbers = [stats.mean, stats.std, stats.low, stats.high]
                if stats.n < MIN_SEEDS:
                    numbers[2:] = [math.nan, math.nan]  # too few seeds for an interval
                writer.writerow(
                    [*group.values.values(), metric, stats.n]
                    + ["" if math.isnan(x) else x for x in numbers]
                )
    return path


def write_paired_csv(path: Path, comparison: Comparison) -> Path:
    """One row per variant and metric: the paired difference, its interval and both p-values."""
    with atomic_text(path) as f:
        writer = csv.writer(f)
        writer.writerow(
            [comparison.key, "reference", "metric", "n", "difference", "ci_low", "ci_high"]
            + ["p_ttest", "p_wilcoxon", "verdict"]
        )
        for r in comparison.results:
            numbers = [r.difference, r.low, r.high, r.p_ttest, r.p_wilcoxon]
            writer.writerow(
                [r.variant, r.reference, r.metric, r.n]
                + ["" if math.isnan(x) else x for x in numbers]
                + [r.verdict]
            )
    return path


def write_summary(
    sweep_dir: Path, jobs: list[Job], metric: str | None = None, compare_to: object = None
) -> str:
    """Write summary.md and summary*.csv at the sweep root; returns the Markdown.

    summary_seeds.csv (seeds swept) and summary_paired.csv (seeds and one other key swept)
    hold the statistics of the Markdown's last tables.
    """
    write_csv(sweep_dir / "summary.csv", jobs)
    if SEED_KEY in varying_keys(jobs):
        write_seed_csv(sweep_dir / "summary_seeds.csv", jobs)
    comparison: Comparison | ConfigError | None
    try:
        comparison = compare_variants(jobs, compared_metrics(jobs), compare_to)
    except ConfigError as error:
        log.error("No paired comparison: %s", error)
        comparison = error
    if isinstance(comparison, Comparison):
        write_paired_csv(sweep_dir / "summary_paired.csv", comparison)
    text = markdown(jobs, f"Sweep {sweep_dir.name}", comparison, metric)
    atomic_write(sweep_dir / "summary.md", text)
    return text
