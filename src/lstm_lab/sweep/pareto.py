"""A multi-objective search's Pareto front: its table in summary.md and pareto.png."""

from __future__ import annotations

import math
from pathlib import Path

from lstm_lab.io import atomic_write, load_yaml
from lstm_lab.plotting import pyplot, save_figure
from lstm_lab.status import Status
from lstm_lab.sweep.jobs import Job, varying_keys

Objectives = list[tuple[str, str]]  # (metric, minimize | maximize)


def scored(jobs: list[Job], objectives: Objectives) -> list[Job]:
    """Completed jobs with a number for every objective."""
    names = [m for m, _ in objectives]
    return [
        job
        for job in jobs
        if job.status is Status.COMPLETED
        and all(m in job.metrics and not math.isnan(job.metrics[m]) for m in names)
    ]


def pareto_front(sweep_dir: Path, jobs: list[Job]) -> list[Job]:
    """The jobs on the search's Pareto front as Optuna computed it (`study.best_trials`, which
    the sweeper writes into best_params.yaml before the summary is made): one computation."""
    record = (
        load_yaml(sweep_dir / "best_params.yaml")
        if (sweep_dir / "best_params.yaml").is_file()
        else None
    )
    entries = record.get("pareto_front") if isinstance(record, dict) else None
    folders = {
        Path(str(entry.get("job_dir"))).absolute()
        for entry in entries or []
        if isinstance(entry, dict) and entry.get("job_dir")
    }
    return [job for job in jobs if job.folder.absolute() in folders]


def markdown(jobs: list[Job], front: list[Job], objectives: Objectives) -> str:
    """The front as a Markdown table: each Pareto-optimal job's parameters and objectives."""
    keys = varying_keys(jobs)
    arrows = {"minimize": "↓", "maximize": "↑"}
    header = ["job", *keys, *(f"{m} {arrows[d]}" for m, d in objectives)]
    first, *_ = objectives
    ordered = sorted(front, key=lambda job: job.metrics[objectives[-1][0]])
    rows = [
        [str(job.num), *(job.overrides.get(k, "") for k in keys)]
        + [f"{job.metrics[m]:.4g}" for m, _ in objectives]
        for job in ordered
    ]
    lines = [
        "",
        f"## Pareto front: {len(front)} of {len(scored(jobs, objectives))} completed trials",
        "",
        "No other trial is at least as good on every objective and better on one "
        f"(sorted by {objectives[-1][0]}; ↓ minimized, ↑ maximized).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def plot_front(
    jobs: list[Job], front: list[Job], objectives: Objectives, path: Path, title: str
) -> Path:
    """Each objective against the last one (e.g. fit seconds): all trials, the front marked."""
    plt = pyplot()
    x_name, _ = objectives[-1]
    panels = objectives[:-1]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.2 * len(panels), 4.8), constrained_layout=True, squeeze=False
    )
    points = scored(jobs, objectives)
    others = [job for job in points if job not in front]
    for ax, (y_name, direction) in zip(axes[0], panels, strict=True):
        ax.scatter(
            [j.metrics[x_name] for j in others],
            [j.metrics[y_name] for j in others],
            color="tab:gray",
            alpha=0.6,
            label="trial",
        )
        ordered = sorted(front, key=lambda j: j.metrics[x_name])
        xs = [j.metrics[x_name] for j in ordered]
        ys = [j.metrics[y_name] for j in ordered]
        ax.scatter(xs, ys, color="tab:red", zorder=3, label="Pareto-optimal trial")
        if len(objectives) == 2:
            ax.step(xs, ys, where="post", color="tab:red", alpha=0.6)
        for job, x, y in zip(ordered, xs, ys, strict=True):
            ax.annotate(str(job.num), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        better = "lower" if direction == "minimize" else "higher"
        ax.set_xlabel(f"{x_name} ({objectives[-1][1]})")
        ax.set_ylabel(f"{y_name} ({better} is better)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    note = "" if len(objectives) == 2 else f" (front over all {len(objectives)} objectives)"
    fig.suptitle(f"{title}: {len(front)} Pareto-optimal of {len(points)} trials{note}")
    return save_figure(fig, path)


def write_pareto(sweep_dir: Path, jobs: list[Job], objectives: Objectives) -> str:
    """Append the front to summary.md and draw pareto.png; returns the Markdown added."""
    front = pareto_front(sweep_dir, jobs)
    text = markdown(jobs, front, objectives)
    summary = sweep_dir / "summary.md"
    atomic_write(summary, (summary.read_text() if summary.is_file() else "") + text)
    if front:
        plot_front(jobs, front, objectives, sweep_dir / "pareto.png", sweep_dir.name)
    return text
