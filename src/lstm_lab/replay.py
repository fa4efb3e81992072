"""What a resume may take from a folder: plain values of the project's own settings.

A run or sweep folder may come from anyone, so the overrides recorded in it are data. They are
parsed with Hydra's own override parser; what could run code or name another place (a flag, a
`hydra.*` key outside a few launcher and sweeper values, a `+`/`++`/`~` edit, a `_target_`, an
interpolation, a package) refuses the resume, and paths or tracking destinations are not
replayed: the folder's own location is the only path a resume takes from it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from lstm_lab.errors import ConfigError
from lstm_lab.io import load_yaml

log = logging.getLogger(__name__)

# Keys that name a place to write or to call: never taken from a folder. (An input such as
# data.path is replayed: a resumed run reads the series it was trained on, and reading a
# file writes nothing and runs nothing.)
PATH_KEY = re.compile(
    r"^(paths\.|ckpt_path$|resume$)|(^|\.)(dirpath|save_dir|log_dir|root_dir|default_root_dir|"
    r"tracking_uri|artifact_location|storage|dir|subdir|output_dir)$"
)
CODE_KEY = re.compile(r"(^|\.)_(target|args|partial|recursive|convert)_($|\.)")
# The Hydra settings a sweep folder may replay: its launcher and sweeper choices and values.
HYDRA_REPLAYABLE = re.compile(
    r"^(hydra/(launcher|sweeper|sweeper/sampler)|hydra\.mode|"
    r"hydra\.launcher\.(n_jobs|timeout_min|cpus_per_task|tasks_per_node|mem_gb|nodes)|"
    r"hydra\.sweeper\.(n_trials|n_jobs|direction|study_name|max_failure_rate|pruner(\.\w+)?|"
    r"sampler\.\w+|params\.[\w.]+))$"
)
MAX_OVERRIDES = 1000


def read_yaml(path: Path) -> object:
    """A YAML file from a folder, read as data (io.load_yaml: bounded in size, no aliases, no
    FIFO); None if it is a link or cannot be read so."""
    try:
        return None if path.is_symlink() else load_yaml(path)
    except ConfigError:
        return None


def split_override(line: str) -> tuple[str, str] | None:
    """(key, value as written) of a `key=value` override, read by Hydra's parser; None for a
    flag, a deletion or a line Hydra would refuse."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if line.startswith("-"):
        return None
    try:
        (override,) = OverridesParser.create().parse_overrides([line])
    except (HydraException, ValueError):
        return None
    if override.is_delete() or override.value_type is None:
        return None
    return override.key_or_group, line.split("=", 1)[1]  # the value as the user wrote it


def override_key(line: str) -> str | None:
    """The key (or group) an override sets, read by Hydra's parser; None for a flag."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if line.startswith("-"):
        return None
    try:
        return OverridesParser.create().parse_overrides([line])[0].key_or_group
    except (HydraException, ValueError, IndexError):
        return None


def _quoted(value: str) -> str:
    """`value` as one quoted string in Hydra's override grammar (spaces, `=`, `,` kept)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def path_override(key: str, path: str | Path) -> str:
    """`key='<path>'`: a path Hydra's parser reads as one string, whatever it holds."""
    return f"{key}={_quoted(str(path))}"


def replayable(overrides: object, source: Path, *, hydra: bool = False) -> list[str]:
    """The overrides in `source` that a resume may replay, or one sentence refusing them.

    `hydra=True` reads a sweep's Hydra overrides (launcher and sweeper values only).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if (
        not isinstance(overrides, list)
        or len(overrides) > MAX_OVERRIDES
        or not all(isinstance(o, str) for o in overrides)
    ):
        raise ConfigError(
            f"{source} does not hold the list of overrides train.py writes; a folder is data, "
            "so it is refused: pass the folder that `python train.py` printed."
        )
    kept = []
    for line in overrides:
        try:
            (override,) = OverridesParser.create().parse_overrides([line])
        except (HydraException, ValueError):
            override = None
        key = override.key_or_group if override else ""
        if override is None or line.startswith("-") or refused(override, key, hydra):
            raise ConfigError(
                f"{source} would replay {line!r}, which is not a plain value of an lstm-lab "
                "setting; a folder is data, so the resume is refused (start a new run instead)."
            )
        if PATH_KEY.search(key) or (hydra and key in ("hydra.sweep.dir", "hydra.run.dir")):
            log.info(
                "Not replayed from %s: %s (a resume writes only into its folder).", source, line
            )
            continue
        kept.append(line)
    return kept


def refused(override, key: str, hydra: bool) -> bool:  # noqa: ANN001 (Hydra's Override)
    """Whether replaying `override` could run code, edit the config's shape or reach outside."""
    if override.is_add() or override.is_force_add() or override.is_delete():
        return True
    if override.package is not None or CODE_KEY.search(key):
        return True
    if "${" in override.input_line:
        return True  # an interpolation is evaluated, and a resolver can call anything
    is_hydra = key == "hydra" or key.startswith(("hydra.", "hydra/"))
    if is_hydra:
        return not (hydra and (HYDRA_REPLAYABLE.match(key) or key in ("hydra.sweep.dir",)))
    return False
