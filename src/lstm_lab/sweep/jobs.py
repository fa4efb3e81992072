"""The jobs of a sweep, read back from their folders (whatever launcher ran them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from lstm_lab.io import load_yaml
from lstm_lab.replay import split_override
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

# Overrides that set how the sweep is summed up, not what a job does (compare_to=...).
SUMMARY_KEYS = ("compare_to",)
NOT_FINISHED = "no metrics.json: the job stopped before it finished (see its train.log)"


@dataclass
class Job:
    """One job folder of a sweep: its overrides, final metrics and status."""

    num: int
    folder: Path
    overrides: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    status: Status = Status.FAILED
    error: str = ""
    batch_size: int | None = None
    # Keys the sweep's command sweeps, even where only one of their values has run so far.
    swept: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.status = Status.of(self.status)

    @property
    def override_line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides.items())


def read_job(folder: Path) -> Job:
    """A job from the files Hydra and train.py left in its folder."""
    hydra_dir = folder / ".hydra"
    # Read with bounds (no YAML aliases, no huge files): a sweep folder may come from anyone.
    hydra_cfg = OmegaConf.create(load_yaml(hydra_dir / "hydra.yaml"))
    lines = load_yaml(hydra_dir / "overrides.yaml")
    lines = lines if isinstance(lines, list) else []
    overrides = dict(parts for line in lines if (parts := split_override(str(line))))
    for key in SUMMARY_KEYS:  # the summary's setting, not the job's
        overrides.pop(key, None)
    job = Job(num=int(hydra_cfg.hydra.job.num), folder=folder, overrides=overrides)
    config_file = hydra_dir / "config.yaml"
    if config_file.is_file():
        batch_size = OmegaConf.select(OmegaConf.create(load_yaml(config_file)), "data.batch_size")
        job.batch_size = batch_size if isinstance(batch_size, int) else None
    record = RunRecord(folder).read()
    if not record:
        job.error = NOT_FINISHED
        return job
    job.status = Status.of(record.pop("status", None))
    job.error = str(record.pop("error", ""))
    job.metrics = {k: float(v) for k, v in record.items() if isinstance(v, int | float)}
    return job


def swept_keys(sweep_dir: Path) -> frozenset[str]:
    """The keys the sweep's command sweeps (`seed=0,1,2`, `x=range(...)`, a search's params),
    read from its multirun.yaml; none when there is no such file."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    record = Path(sweep_dir) / "multirun.yaml"
    if not record.is_file():
        return frozenset()
    try:  # plain values, read with bounds and nothing resolved: a sweep folder is data
        hydra = (load_yaml(record) or {}).get("hydra") or {}
        task = (hydra.get("overrides") or {}).get("task") or []
        params = (hydra.get("sweeper") or {}).get("params") or {}
        parsed = OverridesParser.create().parse_overrides([str(o) for o in task])
    except Exception:  # an unreadable or hand-edited record: the jobs' own values decide
        return frozenset()
    keys = {o.key_or_group for o in parsed if o.is_sweep_override()}
    return frozenset(keys | {str(k) for k in params})


def read_jobs(sweep_dir: Path) -> list[Job]:
    """Every job folder under `sweep_dir` (those with Hydra's .hydra/ record), by job number."""
    folders = [p.parent.parent for p in Path(sweep_dir).glob("*/.hydra/overrides.yaml")]
    swept = swept_keys(sweep_dir)
    jobs = sorted((read_job(f) for f in folders), key=lambda job: job.num)
    for job in jobs:
        job.swept = swept
    return jobs


def varying_keys(jobs: list[Job]) -> list[str]:
    """Override keys whose value is not the same in every job, or that the sweep sweeps
    (a stopped `seed=0,1,2` sweep whose jobs so far all ran seed=0), in first-seen order."""
    keys = list(dict.fromkeys(k for job in jobs for k in job.overrides))
    swept = set().union(*(job.swept for job in jobs)) if jobs else set()
    return [k for k in keys if k in swept or len({job.overrides.get(k) for job in jobs}) > 1]


def common_overrides(jobs: list[Job]) -> dict[str, str]:
    """Overrides that every job shares (e.g. experiment=...)."""
    varying = set(varying_keys(jobs))
    return {k: v for k, v in jobs[0].overrides.items() if k not in varying} if jobs else {}
