"""Continuing a sweep: `resume=<sweep dir>`, the check that a re-run matches the sweep it
continues, and what each job does with the folder an earlier invocation left behind.

Hydra has no resume for multiruns; a sweep folder holds all it needs: `multirun.yaml` (the
overrides) and one folder per job whose metrics.json says how that job ended.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from lstm_lab.checkpoints import read_checkpoint
from lstm_lab.errors import ConfigError
from lstm_lab.io import refuse_symlinks
from lstm_lab.replay import override_key, path_override, read_yaml, replayable
from lstm_lab.run_dirs import is_other_rank
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status

# Settings that only shape the summary (compare_to): a finished sweep resumed with another
# value is summed up again with it, and no job trains again.
from lstm_lab.sweep.jobs import SUMMARY_KEYS

log = logging.getLogger(__name__)

MULTIRUN_FLAGS = ("-m", "--multirun")
# What a job that starts over removes from its folder (train.log keeps the earlier attempt's story).
EARLIER_OUTPUTS = ("checkpoints", "tensorboard", "metrics.json", "predictions.png")


def _key(override: str) -> str | None:
    return override_key(override) if "=" in override else None


def _is_hydra(override: str) -> bool:
    key = _key(override) or ""
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def stored_overrides(sweep_dir: Path) -> tuple[list[str], list[str]]:
    """(task overrides, hydra overrides) the sweep in `sweep_dir` was started with, as far as
    a resume may replay them (lstm_lab/replay.py: a sweep folder is data)."""
    path = sweep_dir / "multirun.yaml"
    saved = read_yaml(path)
    overrides = saved.get("hydra", {}).get("overrides", {}) if isinstance(saved, dict) else None
    if not isinstance(overrides, dict):
        raise ConfigError(
            f"{path} is not the record of a sweep train.py ran; a folder is data, so it is "
            "refused: pass the folder that `python train.py -m` printed as Sweep dir."
        )
    task = replayable(overrides.get("task", []), path)
    return task, replayable(overrides.get("hydra", []), path, hydra=True)


def check_same_experiment(sweep_dir: Path, given: list[str]) -> None:
    """Every job's config, composed again today, is the one it ran with: a sweep whose
    experiment file changed since is a new experiment, so continuing it is refused."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from lstm_lab.config import CONFIG_DIR

    summary_only = [g for g in given if override_key(g) in SUMMARY_KEYS]
    jobs = sorted(sweep_dir.glob("*/.hydra/config.yaml"))
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
            for stored_file in jobs:
                job_dir = stored_file.parent.parent
                job_overrides = replayable(
                    read_yaml(job_dir / ".hydra" / "overrides.yaml"), job_dir / ".hydra"
                )
                stored = read_yaml(stored_file)
                composed = OmegaConf.to_container(
                    compose("train", overrides=[*job_overrides, *summary_only])
                )
                key = first_difference(stored, composed, skip=("paths", *SUMMARY_KEYS))
                if key is not None:
                    raise ConfigError(
                        f"{sweep_dir} ran {key} = {_at(stored, key)!r} in {job_dir.name}, but "
                        f"the configs now give {_at(composed, key)!r}: that is another "
                        "experiment, so continue it only with the configs it ran with, or "
                        "start a new sweep (a new hydra.sweep.dir)."
                    )
    finally:
        GlobalHydra.instance().clear()


def first_difference(
    a: object, b: object, skip: tuple[str, ...] = (), where: str = ""
) -> str | None:
    """The first dotted key whose value differs between two plain configs, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(dict.fromkeys([*a, *b])):
            path = f"{where}.{key}" if where else str(key)
            if path in skip:
                continue
            found = first_difference(a.get(key), b.get(key), skip, path)
            if found is not None:
                return found
        return None
    return None if a == b else (where or "(the whole config)")


def _at(config: object, key: str) -> object:
    for part in key.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config


def check_same_sweep(sweep_dir: Path, given: list[str], *, replaying: bool = False) -> None:
    """A command continuing `sweep_dir` must sweep and fix exactly what that sweep did (with
    `resume=`, the overrides it repeats must be the sweep's; the rest are replayed)."""
    stored, _ = stored_overrides(sweep_dir)
    have = {s.lstrip("+") for s in stored if _key(s) not in SUMMARY_KEYS}
    asked = {g.lstrip("+") for g in given if _key(g) not in SUMMARY_KEYS}
    if asked <= have if replaying else asked == have:
        return
    raise ConfigError(
        f"{sweep_dir} holds the sweep of `{' '.join(stored) or '(no overrides)'}`, not "
        f"`{' '.join(given) or '(no overrides)'}`: continue it with "
        f"`python train.py -m resume={sweep_dir}` or choose a new hydra.sweep.dir."
    )


def sweep_argv(args: list[str]) -> list[str]:
    """Command-line arguments with `resume=<sweep dir>` expanded to that sweep's overrides,
    after checking that a command re-run into an existing sweep folder matches it."""
    resume = [a for a in args if a.startswith("resume=")]
    if resume:
        sweep_dir = Path(resume[-1].split("=", 1)[1]).expanduser().absolute()
        if not (sweep_dir / "multirun.yaml").is_file():
            return args  # a run folder: the run-level resume handles it
        refuse_symlinks(sweep_dir)  # the sweep writes into it again: never through a link
        args = [a for a in args if not a.startswith("resume=")]
        given = [a for a in args if _key(a) and not _is_hydra(a)]
        check_same_sweep(sweep_dir, given, replaying=True)
        check_same_experiment(sweep_dir, given)
        task, hydra = stored_overrides(sweep_dir)
        summary = [a for a in given if _key(a) in SUMMARY_KEYS]
        given_keys = {_key(a) for a in summary}
        task = [o for o in task if _key(o) not in given_keys] + summary
        users = {_key(a) for a in args if _is_hydra(a)}
        replayed = [o for o in hydra if _key(o) not in users | {"hydra.sweep.dir"}]
        flags = [a for a in args if _key(a) is None]
        if not set(flags) & set(MULTIRUN_FLAGS):
            flags.insert(0, "--multirun")
        hydra_given = [a for a in args if _is_hydra(a) and _key(a) != "hydra.sweep.dir"]
        return [*flags, *task, *replayed, *hydra_given, path_override("hydra.sweep.dir", sweep_dir)]
    if set(args) & set(MULTIRUN_FLAGS):
        dirs = [a.split("=", 1)[1] for a in args if _key(a) == "hydra.sweep.dir"]
        if dirs and (Path(dirs[-1]) / "multirun.yaml").is_file():
            refuse_symlinks(Path(dirs[-1]), "hydra.sweep.dir")
            given = [a for a in args if _key(a) and not _is_hydra(a)]
            check_same_sweep(Path(dirs[-1]), given)
            check_same_experiment(Path(dirs[-1]), given)
    return args


def _checkpoint_step(checkpoint: Path) -> int | None:
    """The step `checkpoint` was saved at, or None when there is none that can be read."""
    if not checkpoint.is_file():
        return None
    try:
        return int(read_checkpoint(checkpoint, "resume")["global_step"])
    except (ConfigError, KeyError, TypeError, ValueError) as error:  # e.g. cut short by a kill
        log.warning("%s; this job starts over.", str(error).rstrip("."))
        return None


def run_job(cfg: DictConfig, train: Callable[[DictConfig], dict[str, Any]]) -> dict[str, Any]:
    """Run one sweep job, continuing what an earlier invocation left in its folder: a
    completed job is kept, an interrupted one resumes from its last.ckpt, any other starts over."""
    folder = Path(cfg.paths.output_dir)
    record = RunRecord(folder).read()
    record_path = RunRecord(folder).path
    last = folder / "checkpoints" / "last.ckpt"
    status = Status.of(record["status"]) if "status" in record else Status.INTERRUPTED
    if status is Status.COMPLETED:
        log.info("Skipped: this job completed in an earlier invocation (%s).", record_path)
        return record
    step = _checkpoint_step(last) if status is Status.INTERRUPTED else None
    if step is not None:
        log.info("Resuming this job from %s at step %d.", last, step)
        with open_dict(cfg):
            cfg.ckpt_path = str(last)
            # TensorBoard hides what the stopped attempt logged after this checkpoint, so
            # the curves continue instead of repeating those steps.
            for logger in (cfg.get("logger") or {}).values():
                if str(logger.get("_target_", "")).endswith("TensorBoardLogger"):
                    logger.purge_step = step
    elif not is_other_rank():  # DDP ranks 1, 2, ... train in the folder rank 0 has readied
        for name in EARLIER_OUTPUTS:
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    try:
        return train(cfg)
    except (KeyboardInterrupt, SystemExit):
        _summarize_if_in_process(cfg)
        raise


def _summarize_if_in_process(cfg: DictConfig) -> None:
    """An interrupted sweep still sums up the jobs it ran, when they ran in this process."""
    from hydra.core.hydra_config import HydraConfig

    from lstm_lab.status import Status
    from lstm_lab.sweep.callback import summarize
    from lstm_lab.sweep.mlflow_runs import end_parent

    hydra = HydraConfig.get()
    # Other launchers run jobs in processes of their own: the sweep process sums up.
    if not str(hydra.launcher.get("_target_", "")).endswith("BasicLauncher"):
        return
    sweep_dir = Path(hydra.sweep.dir).absolute()
    sweep = OmegaConf.create(
        {
            "hydra": {"sweep": {"dir": str(sweep_dir)}, "sweeper": hydra.sweeper},
            "optimized_metric": cfg.get("optimized_metric"),
            "compare_to": cfg.get("compare_to"),
            "logger": cfg.get("logger"),
        }
    )
    summarize(sweep)
    end_parent(sweep, sweep_dir, Status.INTERRUPTED)
    log.warning(
        "The sweep was interrupted; summary.md covers the jobs so far. "
        "Continue it with: python train.py -m resume=%s",
        sweep_dir,
    )
