"""Time `python train.py experiment=X` against a hand-written PyTorch loop doing the same work.

    make bench                                  # or:
    python benchmarks/bench.py --repeats 5 --out benchmarks/bench.md

For each experiment, both arms run as separate processes, interleaved (the arm that goes
first alternates), `--repeats` times each: (1) train.py exactly as users run it (defaults
on: TensorBoard, checkpoints, progress bar, test, plot), only its run folder pointed under
`--runs-dir`; (2) plain_loop.py with the same recipe (see its docstring for what it does and
leaves out). Both get one intra-op thread. The table gives medians of the fit time (each
process's own clock around training), the whole-process wall time and peak RSS, their
ratios against the goals, and checks that both arms did the same work: the same number of
optimizer steps and a comparable test loss. Exits 1 when that check fails.

Then it times `--sweep` (compare_directions) as users run it, `python train.py -m ...`, and
reports each job's overhead: the sweep's wall time minus the sum of its jobs' fit times,
divided by the jobs (process start-up, Hydra, building, testing, reporting, the summary).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PLAIN_LOOP = Path(__file__).with_name("plain_loop.py")
EXPERIMENTS = ["stacked_lstm", "stacked_lstm_keras", "bilstm"]
ARMS = ("train.py", "plain")
# The goals: train.py's fit time and peak RSS as ratios of the plain loop's, and its
# whole-process wall time as seconds over the plain loop's.
GOAL_FIT_RATIO, GOAL_WALL_EXTRA_S, GOAL_RSS_RATIO = 1.05, 1.0, 1.3
# A sweep's overhead per job, in seconds, beyond its jobs' fit times.
SWEEP = "compare_directions"
GOAL_SWEEP_OVERHEAD_S = 0.3
# Same seeds, data order and arithmetic: the two arms' test losses agree closely; a loose
# bound still catches a different recipe (wrong lr, steps, scaling) by orders of magnitude.
LOSS_TOLERANCE = 0.25
WARMUP_OVERRIDES = ["trainer.max_steps=20", "trainer.val_check_interval=10"]
# One intra-op thread in both arms (train.py also sets it from `num_threads`).
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def compose(experiment: str, overrides: list[str]) -> Any:
    """The experiment's config as train.py composes it (Hydra imported here only)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(REPO / "configs"), version_base="1.3"):
        cfg = hydra_compose("train", overrides=[f"experiment={experiment}", *overrides])
    GlobalHydra.instance().clear()
    return cfg


def plain_spec(cfg: Any) -> dict[str, Any]:
    """The plain values plain_loop.py needs, taken from a composed train.py config."""
    from omegaconf import OmegaConf

    def values(node: Any) -> dict[str, Any]:
        data = OmegaConf.to_container(node, resolve=True)
        return {k: v for k, v in data.items() if k != "_target_"}

    target = cfg.model._target_.rsplit(".", 1)[-1]
    model = values(cfg.model)  # every model value lives in the config (configs/model/_base.yaml)
    return {
        "task": {"LSTMRegressor": "regressor", "LSTMSequenceClassifier": "classifier"}[target],
        "seed": cfg.seed,
        "num_threads": cfg.get("num_threads"),
        "data": values(cfg.data),
        "model": model,
        "max_steps": cfg.trainer.max_steps,
        "val_check_interval": cfg.trainer.val_check_interval,
    }


@dataclass
class Run:
    """One process of one arm: its own figures and the harness's measurements."""

    experiment: str
    arm: str
    repeat: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def fit_s(self) -> float:
        return float(self.metrics["time/fit_seconds"])


def timed_process(command: list[str], log: Path) -> tuple[float, float, float]:
    """Run `command`; return its wall seconds, CPU seconds and peak RSS in MB."""
    env = {**os.environ, **THREAD_ENV}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024  # Linux reports kilobytes


def run_train_py(experiment: str, overrides: list[str], run_dir: Path, repeat: int) -> Run:
    command = [
        sys.executable,
        "train.py",
        f"experiment={experiment}",
        *overrides,
        f"hydra.run.dir={run_dir}",
    ]
    wall, cpu, rss = timed_process(command, run_dir.with_suffix(".log"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return Run(experiment, "train.py", repeat, wall, cpu, rss, metrics)


def run_plain(experiment: str, spec: dict[str, Any], run_dir: Path, repeat: int) -> Run:
    result = run_dir / "result.json"
    command = [sys.executable, str(PLAIN_LOOP), "--spec", json.dumps(spec), "--out", str(result)]
    wall, cpu, rss = timed_process(command, run_dir.with_suffix(".log"))
    return Run(experiment, "plain", repeat, wall, cpu, rss, json.loads(result.read_text()))


def run_sweep(experiment: str, overrides: list[str], sweep_dir: Path) -> dict[str, Any]:
    """One `python train.py -m experiment=...`: its wall time, jobs and per-job overhead."""
    command = [
        sys.executable,
        "train.py",
        "-m",
        f"experiment={experiment}",
        *overrides,
        f"hydra.sweep.dir={sweep_dir}",
    ]
    wall, _, _ = timed_process(command, sweep_dir.with_suffix(".log"))
    jobs = [json.loads(p.read_text()) for p in sorted(sweep_dir.glob("*/metrics.json"))]
    failed = [job for job in jobs if job.get("status") != "completed"]
    if not jobs or failed:
        raise RuntimeError(f"{sweep_dir}: {len(jobs)} jobs, {len(failed)} did not complete")
    fit = sum(job["time/fit_seconds"] for job in jobs)
    return {"wall_s": wall, "jobs": len(jobs), "fit_s": fit, "overhead_s": (wall - fit) / len(jobs)}


def same_work_problems(runs: list[Run], max_steps: int) -> list[str]:
    """What shows the two arms did not do the same work: steps, or a far-off test loss."""
    problems = []
    for run in runs:
        steps = run.metrics.get("train/steps")
        if steps != max_steps:
            problems.append(f"{run.experiment} {run.arm} #{run.repeat}: {steps} steps")
    losses = {
        arm: statistics.median(r.metrics["test/loss"] for r in runs if r.arm == arm) for arm in ARMS
    }
    a, b = losses.values()
    if abs(a - b) > LOSS_TOLERANCE * max(abs(a), abs(b)):
        experiment = runs[0].experiment
        problems.append(f"{experiment}: median test/loss {a:.4g} (train.py) vs {b:.4g} (plain)")
    return problems


def summarize(experiment: str, runs: list[Run]) -> dict[str, Any]:
    def median(arm: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs if r.arm == arm)

    row: dict[str, Any] = {"experiment": experiment}
    for attr in ("fit_s", "wall_s", "cpu_s", "peak_rss_mb"):
        row[attr] = {arm: median(arm, attr) for arm in ARMS}
    row["fit_ratio"] = row["fit_s"]["train.py"] / row["fit_s"]["plain"]
    row["wall_extra_s"] = row["wall_s"]["train.py"] - row["wall_s"]["plain"]
    row["rss_ratio"] = row["peak_rss_mb"]["train.py"] / row["peak_rss_mb"]["plain"]
    row["steps"] = sorted({r.metrics["train/steps"] for r in runs})
    row["test_loss"] = {
        arm: statistics.median(r.metrics["test/loss"] for r in runs if r.arm == arm) for arm in ARMS
    }
    return row


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def conditions(repeats: int, load_before: float, load_after: float) -> str:
    import pytorch_lightning
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores, one intra-op thread; "
        f"torch {torch.__version__}, lightning {pytorch_lightning.__version__}, "
        f"Python {platform.python_version()}; medians of {repeats} interleaved runs per arm; "
        f"1-min load average {load_before:.1f} before, {load_after:.1f} after."
    )


def markdown(rows: list[dict[str, Any]], header: str) -> str:
    lines = [
        header,
        "",
        f"| experiment | steps | fit: train.py / plain | fit ratio (≤ {GOAL_FIT_RATIO:g}) "
        f"| wall: train.py / plain | wall extra (≤ +{GOAL_WALL_EXTRA_S:g} s) "
        f"| peak RSS: train.py / plain | RSS ratio (≤ {GOAL_RSS_RATIO:g}) "
        "| test loss: train.py / plain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        fit, wall, rss, loss = row["fit_s"], row["wall_s"], row["peak_rss_mb"], row["test_loss"]
        lines.append(
            f"| `{row['experiment']}` | {', '.join(map(str, row['steps']))} "
            f"| {fit['train.py']:.2f} s / {fit['plain']:.2f} s "
            f"| {row['fit_ratio']:.2f} {mark(row['fit_ratio'] <= GOAL_FIT_RATIO)} "
            f"| {wall['train.py']:.2f} s / {wall['plain']:.2f} s "
            f"| {row['wall_extra_s']:+.2f} s {mark(row['wall_extra_s'] <= GOAL_WALL_EXTRA_S)} "
            f"| {rss['train.py']:.0f} MB / {rss['plain']:.0f} MB "
            f"| {row['rss_ratio']:.2f} {mark(row['rss_ratio'] <= GOAL_RSS_RATIO)} "
            f"| {loss['train.py']:.4g} / {loss['plain']:.4g} |"
        )
    return "\n".join(lines) + "\n"


def sweep_markdown(experiment: str, sweeps: list[dict[str, Any]]) -> str:
    """The sweep's row: medians over its repeats."""
    median = {k: statistics.median(s[k] for s in sweeps) for k in ("wall_s", "fit_s", "overhead_s")}
    ok = median["overhead_s"] <= GOAL_SWEEP_OVERHEAD_S
    return "\n".join(
        [
            "",
            "| sweep | jobs | wall | sum of jobs' fit "
            f"| overhead per job (≤ {GOAL_SWEEP_OVERHEAD_S:g} s) |",
            "|---|---|---|---|---|",
            f"| `{experiment}` | {sweeps[0]['jobs']} | {median['wall_s']:.1f} s "
            f"| {median['fit_s']:.1f} s | {median['overhead_s']:.2f} s {mark(ok)} |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=EXPERIMENTS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        help="a Hydra override for both arms, e.g. trainer.max_steps=20 (repeatable)",
    )
    parser.add_argument(
        "--sweep", default=SWEEP, help=f"the multirun to time ({SWEEP}); 'none' skips it"
    )
    parser.add_argument("--sweep-repeats", type=int, default=3)
    parser.add_argument(
        "--sweep-override",
        action="append",
        default=[],
        help="a Hydra override for the sweep only, e.g. seed=0 (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/bench.md")
    parser.add_argument("--runs-dir", type=Path, default=REPO / "outputs/bench")
    parser.add_argument(
        "--no-warmup", dest="warmup", action="store_false", help="skip the untimed first runs"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    max_steps = {e: compose(e, args.override).trainer.max_steps for e in args.experiments}

    def run_arm(arm: str, experiment: str, repeat: int, overrides: list[str]) -> Run:
        run_dir = args.runs_dir / experiment / f"{arm.replace('.', '_')}_{repeat}"
        shutil.rmtree(run_dir, ignore_errors=True)  # no checkpoints left from a former run
        if arm == "train.py":
            return run_train_py(experiment, overrides, run_dir, repeat)
        return run_plain(experiment, plain_spec(compose(experiment, overrides)), run_dir, repeat)

    # Untimed: the first processes read torch & co. from disk; later ones from the page cache.
    for arm in ARMS[: 2 if args.warmup else 0]:
        run_arm(arm, args.experiments[0], -1, [*args.override, *WARMUP_OVERRIDES])

    load_before = os.getloadavg()[0]
    runs: dict[str, list[Run]] = {e: [] for e in args.experiments}
    for repeat in range(args.repeats):
        for i, experiment in enumerate(args.experiments):
            for arm in ARMS if (repeat + i) % 2 == 0 else ARMS[::-1]:
                run = run_arm(arm, experiment, repeat, args.override)
                runs[experiment].append(run)
                print(
                    f"{experiment:<18} {arm:<8} #{repeat}  fit {run.fit_s:6.2f} s  "
                    f"wall {run.wall_s:6.2f} s  CPU {run.cpu_s:6.2f} s  "
                    f"peak RSS {run.peak_rss_mb:5.0f} MB  "
                    f"steps {run.metrics.get('train/steps')}  "
                    f"test/loss {run.metrics['test/loss']:.4g}",
                    flush=True,
                )
    sweeps = []
    for repeat in range(args.sweep_repeats if args.sweep != "none" else 0):
        sweep_dir = args.runs_dir / "sweep" / f"{args.sweep}_{repeat}"
        shutil.rmtree(sweep_dir, ignore_errors=True)
        sweep = run_sweep(args.sweep, [*args.override, *args.sweep_override], sweep_dir)
        sweeps.append(sweep)
        print(
            f"{args.sweep:<18} sweep    #{repeat}  wall {sweep['wall_s']:6.2f} s  "
            f"{sweep['jobs']} jobs' fit {sweep['fit_s']:6.2f} s  "
            f"overhead {sweep['overhead_s']:.3f} s a job",
            flush=True,
        )
    load_after = os.getloadavg()[0]

    rows = [summarize(e, runs[e]) for e in args.experiments]
    problems = [p for e in args.experiments for p in same_work_problems(runs[e], max_steps[e])]
    table = markdown(rows, conditions(args.repeats, load_before, load_after))
    if sweeps:
        table += sweep_markdown(args.sweep, sweeps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    raw = args.runs_dir / "bench.json"
    raw.write_text(
        json.dumps(
            {"rows": rows, "runs": [vars(r) for v in runs.values() for r in v], "sweeps": sweeps},
            indent=1,
        )
    )
    minutes = (time.perf_counter() - started) / 60
    print(f"\n{table}\nwrote {args.out} (every run: {raw}) in {minutes:.1f} min")
    if problems:
        print("The two arms did not do the same work:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
