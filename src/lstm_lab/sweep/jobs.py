"""The jobs of a sweep, read back from their folders (whatever launcher ran them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

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

    def __post_init__(self) -> None:
        self.status = Status.of(self.status)

    @property
    def override_line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides.items())


def read_job(folder: Path) -> Job:
    """A job from the files Hydra and train.py left in its folder."""
    hydra_dir = folder / ".hydra"
    hydra_cfg = OmegaConf.load(hydra_dir / "hydra.yaml")
    overrides = dict(
        override.lstrip("+~").split("=", 1)
        for override in OmegaConf.load(hydra_dir / "overrides.yaml")
        if "=" in override
    )
    job = Job(num=int(hydra_cfg.hydra.job.num), folder=folder, overrides=overrides)
    config_file = hydra_dir / "config.yaml"
    if config_file.is_file():
        batch_size = OmegaConf.select(OmegaConf.load(config_file), "data.batch_size")
        job.batch_size = batch_size if isinstance(batch_size, int) else None
    record = RunRecord(folder).read()
    if not record:
        job.error = NOT_FINISHED
        return job
    job.status = Status.of(record.pop("status", None))
    job.error = str(record.pop("error", ""))
    job.metrics = {k: float(v) for k, v in record.items() if isinstance(v, int | float)}
    return job


def read_jobs(sweep_dir: Path) -> list[Job]:
    """Every job folder under `sweep_dir` (those with Hydra's .hydra/ record), by job number."""
    folders = [p.parent.parent for p in Path(sweep_dir).glob("*/.hydra/overrides.yaml")]
    return sorted((read_job(f) for f in folders), key=lambda job: job.num)


def varying_keys(jobs: list[Job]) -> list[str]:
    """Override keys whose value is not the same in every job, in first-seen order."""
    keys = list(dict.fromkeys(k for job in jobs for k in job.overrides))
    return [k for k in keys if len({job.overrides.get(k) for job in jobs}) > 1]


def common_overrides(jobs: list[Job]) -> dict[str, str]:
    """Overrides that every job shares (e.g. experiment=...)."""
    varying = set(varying_keys(jobs))
    return {k: v for k, v in jobs[0].overrides.items() if k not in varying} if jobs else {}
