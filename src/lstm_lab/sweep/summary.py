"""summary.csv and summary.md: one row per job, then the same grouped over seeds."""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lstm_lab.sweep.jobs import Job, common_overrides, varying_keys

SEED_KEY = "seed"


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
        return [job for job in self.jobs if job.status == "completed"]

    def values_of(self, metric: str) -> list[float]:
        values = (job.metrics.get(metric) for job in self.completed)
        return [v for v in values if v is not None and not math.isnan(v)]


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


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def write_csv(path: Path, jobs: list[Job]) -> Path:
    """One row per job: number, folder, overrides (whole and by key), metrics, status, error."""
    keys = list(dict.fromkeys(k for job in jobs for k in job.overrides))
    metrics = metric_names(jobs)
    with path.open("w", newline="") as f:
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


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(jobs: list[Job], title: str) -> str:
    """The summary as Markdown tables, readable as they are in a terminal too."""
    keys = varying_keys(jobs)
    metrics = metric_names(jobs)
    failed = [job for job in jobs if job.status != "completed"]
    lines = [f"# {title}", ""]
    lines.append(f"{len(jobs)} jobs: {len(jobs) - len(failed)} completed, {len(failed)} failed.")
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
        lines += ["", f"## Mean ± std over {SEED_KEY}s", ""]
        group_keys = list(groups[0].values)
        rows = []
        for group in groups:
            cells = []
            for metric in metrics:
                mean, std = mean_std(group.values_of(metric))
                spread = f"{_number(mean)} ± {_number(std, 2)}"
                cells.append(spread if not math.isnan(mean) else "")
            seeds = f"{len(group.completed)}/{len(group.jobs)}"
            rows.append([*group.values.values(), seeds, *cells])
        lines += _table([*group_keys, f"{SEED_KEY}s ok", *metrics], rows)
    return "\n".join(lines) + "\n"


def write_summary(sweep_dir: Path, jobs: list[Job]) -> str:
    """Write summary.csv and summary.md at the sweep root; returns the Markdown."""
    write_csv(sweep_dir / "summary.csv", jobs)
    text = markdown(jobs, f"Sweep {sweep_dir.name}")
    (sweep_dir / "summary.md").write_text(text)
    return text
