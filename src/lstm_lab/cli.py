"""What every entry point shares on the command line: checks made before Hydra starts, the
`resume=<run_dir>` shortcut, and one-sentence reports of user mistakes.

Hydra reports a bad config group or an unwritable run directory with a stack trace; these
are user mistakes, so they are caught here and reported in one sentence instead.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lstm_lab.errors import ConfigError, TrainingDiverged, report
from lstm_lab.io import refuse_symlinks
from lstm_lab.replay import (
    override_key,
    path_override,
    read_yaml,
    replayable,
    split_override,
)
from lstm_lab.run_dirs import RUN_RECORDS, discard_refused_run, is_other_rank
from lstm_lab.sweep.resume import sweep_argv
from lstm_lab.validation import check_writable_dir

T = TypeVar("T")
# Old option names, so a command from an older README gets told the new one.
RENAMED = {
    "experiment": {
        "stacked_lstm_seed": "stacked_lstm_keras",
        "lstm_seed": "lstm_keras",
        "bilstm_seed": "bilstm_keras",
    },
    "data": {"sine_product": "function"},
}


def _split(override: str) -> tuple[str, str] | None:
    return split_override(override)


def check_group_choices(overrides: list[str], config_dir: Path, extra: list[Path] = ()) -> None:
    """`group=name` must name a file in configs/<group>/ or a `--config-dir`'s <group>/."""
    for override in overrides:
        parts = _split(override)
        if parts is None:
            continue
        key, value = parts
        group_dir = config_dir / key
        if not group_dir.is_dir() or "(" in value or value in ("null", ""):
            continue
        dirs = [group_dir, *(d / key for d in extra)]
        # Options whose name starts with "_" are shared bases, not choices.
        available = sorted({p.stem for d in dirs for p in d.glob("*.yaml") if p.stem[0] != "_"})
        for name in value.split(","):
            if name in RENAMED.get(key, {}):
                raise ConfigError(
                    f"{key}={name} is now called {key}={RENAMED[key][name]}; use that name."
                )
            if name not in available:
                raise ConfigError(
                    f"{key}={name} is not in configs/{key}/: choose one of {', '.join(available)}."
                )


# Keys that name a folder a command writes under.
OUTPUT_KEYS = ("hydra.run.dir", "hydra.sweep.dir", "paths.log_dir", "paths.output_dir")


def check_output_dir(overrides: list[str]) -> None:
    """Every folder runs will be written under must be creatable and writable."""
    targets = {"paths.log_dir": Path("outputs")}
    for override in overrides:
        parts = _split(override)
        if parts and parts[0] in OUTPUT_KEYS:
            targets[parts[0]] = Path(parts[1].strip("'\""))
    for key, target in targets.items():
        fix = f"set {key}=<a folder you can write to>"
        check_writable_dir(target, f"under {key}={target}", fix, keep=False)


def check_run_dir_is_new(overrides: list[str]) -> None:
    """hydra.run.dir= must not name a folder that holds another run (resume= continues one)."""
    if is_other_rank():
        return  # Lightning starts DDP ranks 1, 2, ... in rank 0's folder
    for override in overrides:
        parts = _split(override)
        if parts and parts[0] == "hydra.run.dir":
            folder = Path(parts[1].strip("'\"")).expanduser()
            if any((folder / name).exists() for name in RUN_RECORDS):
                raise ConfigError(
                    f"hydra.run.dir={folder} already holds a run; continue it with "
                    f"resume={folder}, or choose a new folder (or leave hydra.run.dir out)."
                )


def check_keys(overrides: list[str], config_name: str, config_dir: Path) -> None:
    """Every `key=value` must name a setting the config has (Hydra would print a traceback)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import DictConfig, OmegaConf

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as error:
        first = str(error).strip().splitlines()[0]
        raise ConfigError(f"cannot read the command line ({first}): write key=value.") from None
    groups = []
    for override in parsed:
        group = (config_dir / override.key_or_group).is_dir() or "/" in override.key_or_group
        if group and not override.is_delete():
            value = (
                next(iter(override.sweep_string_iterator()), None)
                if (override.is_sweep_override())
                else override.value()
            )
            groups.append(f"{override.get_key_element()}={value}")
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(config_dir), version_base="1.3"):
        cfg = compose(config_name, overrides=groups, return_hydra_config=True)
    GlobalHydra.instance().clear()
    for override in parsed:
        key = override.key_or_group
        if override.is_add() or override.is_force_add() or (config_dir / key).is_dir():
            continue
        if "/" in key or override.is_delete():
            continue  # a group of Hydra's own (hydra/launcher=...), which Hydra checks
        parent_key, _, name = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        if isinstance(parent, DictConfig) and name in parent:
            continue
        if isinstance(parent, DictConfig) and not OmegaConf.is_struct(parent):
            continue  # an open mapping (e.g. a sweeper's params) takes new keys
        known = dotted_keys(cfg, hydra=key.startswith("hydra."))
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else "check its spelling"
        raise ConfigError(f"{override.input_line} names no setting of {config_name}.yaml: {hint}")


def dotted_keys(cfg: Any, hydra: bool) -> list[str]:
    """Every key of `cfg` as `a.b.c`, the hydra node only when asked."""
    from omegaconf import DictConfig

    keys = []

    def walk(node: Any, prefix: str) -> None:
        for name in list(node):
            if not prefix and (name == "hydra") != hydra:
                continue
            key = f"{prefix}{name}"
            keys.append(key)
            child = node._get_node(name)
            if isinstance(child, DictConfig) and not child._is_missing() and not child._is_none():
                walk(child, f"{key}.")

    walk(cfg, "")
    return keys


def saved_overrides(run_dir: Path, given: set[str]) -> list[str]:
    """A run folder's own overrides that a resume replays (see lstm_lab/replay.py)."""
    path = run_dir / ".hydra" / "overrides.yaml"
    kept = replayable(read_yaml(path), path)
    return [o for o in kept if override_key(o) not in given | {"ckpt_path"}]


def resume_overrides(run_dir: Path, overrides: list[str]) -> list[str]:
    """Overrides that continue the run in `run_dir`: its own, the user's, its last checkpoint."""
    from lstm_lab.checkpoints import read_checkpoint

    run_dir = run_dir.expanduser().absolute()
    if not (run_dir / ".hydra" / "overrides.yaml").is_file():
        raise ConfigError(
            f"resume={run_dir} is not a run folder with .hydra/overrides.yaml and "
            "checkpoints/last.ckpt: pass the folder that `python train.py` printed as Run dir."
        )
    refuse_symlinks(run_dir)  # Hydra and the run write into it again: never through a link
    given = {override_key(o) for o in overrides}
    if "hydra.run.dir" in given:
        raise ConfigError(
            f"resume={run_dir} continues the run in that folder, so hydra.run.dir= cannot "
            "choose another: leave it out, or start a new run with ckpt_path=<its checkpoint>."
        )
    original = saved_overrides(run_dir, given)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if "ckpt_path" not in given:
        if not checkpoint.is_file():
            raise ConfigError(
                f"resume={run_dir} has no checkpoints/last.ckpt to continue from: pass the "
                "folder that `python train.py` printed as Run dir."
            )
        try:
            read_checkpoint(checkpoint, "resume")
        except ConfigError as error:
            best = run_dir / "checkpoints" / "best.ckpt"
            try:
                read_checkpoint(best, "resume")
            except ConfigError:
                raise error from None
            raise ConfigError(
                f"resume={run_dir}: checkpoints/last.ckpt is damaged, but checkpoints/best.ckpt "
                f"is intact: continue from it with resume={run_dir} ckpt_path={best}."
            ) from None
        overrides = [*overrides, path_override("ckpt_path", checkpoint)]
    return [*original, *overrides, path_override("hydra.run.dir", run_dir)]


def split_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, the overrides) of a command line, read with the
    options of Hydra's own argument parser: `--cfg job` and `--cfg=job`, `-c job`, `-cjob`,
    `--package _global_`, `--info` with or without a value, `--config-dir DIR`, ..."""
    from hydra._internal.utils import get_args_parser

    actions = {name: a for a in get_args_parser()._actions for name in a.option_strings}
    flags: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            overrides.append(arg)
            continue
        flags.append(arg)
        name, attached = arg.split("=", 1)[0], "=" in arg
        action = actions.get(name)
        if action is None and arg[:2] in actions and not arg.startswith("--"):
            action, attached = actions[arg[:2]], True  # a short flag with its value: -cjob
        if action is None or attached or action.nargs not in (None, "?") or i >= len(args):
            continue
        value = args[i]
        # A flag's value follows it; an optional one (--info) only when it is one of its choices.
        if (action.nargs is None and not value.startswith("-")) or value in (action.choices or ()):
            flags.append(value)
            i += 1
    return flags, overrides


def prepare_argv(argv: list[str], config_dir: Path, config_name: str = "train") -> list[str]:
    """Expand `resume=` and check what Hydra would otherwise report with a stack trace.

    The command Hydra gets has the overrides first, then the flags: `--info` at the end of
    a line then takes no override as its value."""
    args = argv[1:]
    if config_name == "train":
        args = sweep_argv(args)  # resume=<sweep dir>, and a re-run sweep must match its folder
    flags, args = split_flags(args)
    resume = [a for a in args if a.startswith("resume=")] if config_name == "train" else []
    if resume and {"-m", "--multirun"} & set(flags):
        raise ConfigError(
            f"{resume[-1]} is not a sweep folder (it has no multirun.yaml): a run folder "
            f"continues without -m, as python train.py {resume[-1]}."
        )
    if resume:
        args = [a for a in args if not a.startswith("resume=")]
        overrides = [a for a in args if _split(a)]
        others = [a for a in args if a not in overrides]
        args = others + resume_overrides(Path(resume[-1].split("=", 1)[1]), overrides)
    overrides = args
    # Hydra's --config-dir adds a folder whose groups extend configs/ (e.g. a user's searches).
    pairs = zip(flags, flags[1:], strict=False)
    extra = [Path(b) for a, b in pairs if a in ("--config-dir", "-cd")]
    extra += [Path(a.split("=", 1)[1]) for a in flags if a.startswith(("--config-dir=", "-cd="))]
    check_group_choices(overrides, config_dir, extra)
    if not extra:  # keys of groups from another folder are Hydra's to check
        check_keys(overrides, config_name, config_dir)
    if config_name == "train":
        check_output_dir(overrides)
        if not resume:
            check_run_dir_is_new(overrides)
    return [argv[0], *overrides, *flags]


def launch(main: Callable[[], Any], config_name: str) -> None:
    """Run a Hydra `main` after the command-line checks, a mistake ending in one sentence."""
    from lstm_lab.config import CONFIG_DIR

    try:
        sys.argv = prepare_argv(sys.argv, Path(CONFIG_DIR), config_name)
    except ConfigError as error:
        report(error)
        sys.exit(2)
    main()


def one_sentence_errors(function: Callable[..., T]) -> Callable[..., T]:
    """An entry point's work, where a user mistake ends the process with one line: exit 2
    for a ConfigError, 1 for a diverged training."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except (ConfigError, TrainingDiverged) as error:
            if isinstance(error, ConfigError):
                discard_refused_run()
            report(error)
            sys.exit(2 if isinstance(error, ConfigError) else 1)
        except Exception as error:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            # Not a value the user set: a bug. The traceback is for whoever fixes it.
            logging.getLogger("lstm_lab").exception("Unexpected error")
            logs = [
                h.baseFilename for h in logging.getLogger().handlers if hasattr(h, "baseFilename")
            ]
            where = f"; the full log is {logs[0]}" if logs else ""
            print(
                f"error: this is a bug in lstm-lab, not in your settings "
                f"({type(error).__name__}: {error}){where}; please report it.",
                file=sys.stderr,
                flush=True,
            )
            sys.exit(1)

    return guarded
