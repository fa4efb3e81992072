"""Continuing a sweep: `resume=<sweep dir>`, the check that a re-run matches the sweep it
continues, and what each job does with the folder an earlier invocation left behind.

Hydra has no resume for multiruns; a sweep folder holds all it needs: `multirun.yaml` (the
overrides) and one folder per job whose metrics.json says how that job ended.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from lstm_lab.errors import ConfigError

# Settings of the sweep's summary, not of its jobs: a finished sweep resumed with another
# value is summed up again with it, and no job trains again.
from lstm_lab.sweep.jobs import SUMMARY_KEYS

log = logging.getLogger(__name__)

MULTIRUN_FLAGS = ("-m", "--multirun")
# What a job that starts over removes from its folder (train.log keeps the earlier attempt's story).
EARLIER_OUTPUTS = ("checkpoints", "tensorboard", "metrics.json", "predictions.png")


def _key(override: str) -> str | None:
    if "=" not in override or override.startswith("-"):
        return None
    return override.split("=", 1)[0].lstrip("+~")


def _is_hydra(override: str) -> bool:
    key = _key(override) or ""
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def stored_overrides(sweep_dir: Path) -> tuple[list[str], list[str]]:
    """(task overrides, hydra overrides) the sweep in `sweep_dir` was started with."""
    saved = OmegaConf.load(sweep_dir / "multirun.yaml").hydra.overrides
    return list(saved.task), list(saved.hydra)


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
        args = [a for a in args if not a.startswith("resume=")]
        given = [a for a in args if _key(a) and not _is_hydra(a)]
        check_same_sweep(sweep_dir, given, replaying=True)
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
        return [*flags, *task, *replayed, *hydra_given, f"hydra.sweep.dir={sweep_dir}"]
    if set(args) & set(MULTIRUN_FLAGS):
        dirs = [a.split("=", 1)[1] for a in args if _key(a) == "hydra.sweep.dir"]
        if dirs and (Path(dirs[-1]) / "multirun.yaml").is_file():
            check_same_sweep(Path(dirs[-1]), [a for a in args if _key(a) and not _is_hydra(a)])
    return args


def _record(folder: Path) -> dict[str, Any]:
    metrics = folder / "metrics.json"
    return json.loads(metrics.read_text()) if metrics.is_file() else {}


def _checkpoint_step(checkpoint: Path) -> int | None:
    """The step `checkpoint` was saved at, or None when there is none that can be read."""
    if not checkpoint.is_file():
        return None
    try:
        return int(torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"])
    except Exception as error:  # e.g. cut short by a kill while it was written
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        log.warning("%s cannot be read (%s); this job starts over.", checkpoint, reason)
        return None


def run_job(cfg: DictConfig, train: Callable[[DictConfig], dict[str, Any]]) -> dict[str, Any]:
    """Run one sweep job, continuing what an earlier invocation left in its folder: a
    completed job is kept, an interrupted one resumes from its last.ckpt, any other starts over."""
    folder = Path(cfg.paths.output_dir)
    record = _record(folder)
    record_path = folder / "metrics.json"
    last = folder / "checkpoints" / "last.ckpt"
    if record.get("status") == "completed":
        log.info("Skipped: this job completed in an earlier invocation (%s).", record_path)
        return record
    step = _checkpoint_step(last) if record.get("status", "interrupted") == "interrupted" else None
    if step is not None:
        log.info("Resuming this job from %s at step %d.", last, step)
        with open_dict(cfg):
            cfg.ckpt_path = str(last)
            # TensorBoard hides what the stopped attempt logged after this checkpoint, so
            # the curves continue instead of repeating those steps.
            for logger in (cfg.get("logger") or {}).values():
                if str(logger.get("_target_", "")).endswith("TensorBoardLogger"):
                    logger.purge_step = step
    else:
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

    from lstm_lab.sweep.callback import SweepSummary

    hydra = HydraConfig.get()
    # Other launchers run jobs in processes of their own: the sweep process sums up.
    if not str(hydra.launcher.get("_target_", "")).endswith("BasicLauncher"):
        return
    sweep_dir = Path(hydra.sweep.dir).absolute()
    SweepSummary().on_multirun_end(
        OmegaConf.create(
            {
                "hydra": {"sweep": {"dir": str(sweep_dir)}, "sweeper": hydra.sweeper},
                "optimized_metric": cfg.get("optimized_metric"),
                "compare_to": cfg.get("compare_to"),
            }
        )
    )
    log.warning(
        "The sweep was interrupted; summary.md covers the jobs so far. "
        "Continue it with: python train.py -m resume=%s",
        sweep_dir,
    )
