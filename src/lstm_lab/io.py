"""What a run writes and reads: files written atomically and never through a link, folders
refused when they hold links, YAML read with bounds, and metric tables.

A run folder may come from someone else (a colleague's run, a sweep to continue), so a name
inside it may be a symbolic link to anywhere. Writes therefore go to a fresh temporary file
in the same folder (created with O_CREAT | O_EXCL | O_NOFOLLOW by `tempfile.mkstemp`),
fsync'd, then renamed over the target: `os.replace` replaces a link, it never follows it,
and a killed process leaves either the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from lstm_lab.errors import ConfigError

# Hydra's records of a run and its metrics.json are a few KB; a megabyte is more than any is.
MAX_RECORD_BYTES = 1 << 20
REFUSED = "a run folder is data, so it is refused"
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def reason(error: BaseException) -> str:
    """An OSError (or any error) as the few words a sentence can carry."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:120]


def atomic_write(
    path: str | Path, content: bytes | memoryview | str | Callable[[IO[bytes]], Any]
) -> Path:
    """Write `content` (bytes, text, or a function writing to a binary file) to `path`.

    Written to a temporary file beside `path`, fsync'd and renamed over it, so a kill or a
    full disk leaves the old file intact and no temporary file behind; a link at `path` is
    replaced, not followed. The OSError of a failed write reaches the caller.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 would hide results from colleagues
        with os.fdopen(fd, "wb") as file:
            if callable(content):
                content(file)
            else:
                file.write(content.encode() if isinstance(content, str) else content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A fresh temporary path beside `path` for a writer that wants a file name (an
    exporter); renamed over `path` when the block ends, removed if it raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_text(path: str | Path) -> Iterator[io.StringIO]:
    """A text buffer (a CSV writer's file) written to `path` by atomic_write when the block ends."""
    buffer = io.StringIO()
    yield buffer
    atomic_write(path, buffer.getvalue())


def write_json(path: Path, data: dict[str, Any]) -> None:
    """`data` as indented JSON at `path`, written atomically (see atomic_write)."""
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def safe_dir(root: str | Path, sub: str | Path) -> Path:
    """The folder `root/sub`, made if missing, refused in one sentence if it or a folder
    between it and `root` is a link or not a folder (writes there would land elsewhere)."""
    folder = Path(root)
    for part in Path(sub).parts:
        if part in ("", ".", "..") or os.sep in part:
            raise ConfigError(f"{sub} is not a folder name inside {root}.")
        folder = folder / part
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        mode = os.lstat(folder).st_mode
        if stat.S_ISLNK(mode):
            raise ConfigError(
                f"{folder} is a symbolic link (to {os.readlink(folder)}) and lstm-lab never "
                f"writes through a link: {REFUSED}; remove the link and run again."
            )
        if not stat.S_ISDIR(mode):
            raise ConfigError(
                f"{folder} is not a folder, so nothing can be written into it: remove it or "
                "rename it and run again."
            )
    return folder


def refuse_symlinks(folder: str | Path, key: str = "resume") -> None:
    """Refuse a folder to be written into again (a resumed run or sweep) if anything inside
    it is a symbolic link or a special file (FIFO, device, socket).

    train.py writes back into such a folder (Hydra's .hydra/ files, train.log, checkpoints,
    TensorBoard events), and a link there would take those writes outside it; a FIFO would
    block the process. No folder lstm-lab writes holds either.
    """
    folder = Path(folder)
    for parent, dirs, files in os.walk(folder):  # never descends into a linked folder
        for name in sorted(dirs + files):
            path = Path(parent) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            what = (
                f"a symbolic link (to {os.readlink(path)})"
                if stat.S_ISLNK(mode)
                else "a special file"
            )
            raise ConfigError(
                f"{key}={folder}: {path.relative_to(folder)} is {what}, and continuing the run "
                f"would write through it: {REFUSED}; replace it with a plain copy of the file."
            )


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, refused in one sentence above `limit` bytes
    or when it is not a regular file (a FIFO or a device could block or never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ConfigError(f"{path} is not a regular file: {REFUSED}.")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(f"{path} is larger than {limit:,} bytes, which no run writes: {REFUSED}.")
    return data


class _NoAliasLoader(yaml.SafeLoader):
    """yaml's SafeLoader that stops at the first alias (`*name`, `<<: *name`).

    Hydra and OmegaConf never write aliases, and an alias is how a 2 KB file expands to
    gigabytes once a reader walks it; refusing them bounds the work by the file's size.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"a YAML alias at line {mark.line + 1}, which no run writes")
        return super().compose_node(parent, index)


def load_yaml(path: str | Path, limit: int = MAX_RECORD_BYTES) -> Any:
    """A YAML file from a run or sweep folder as plain values, read with bounds: at most
    `limit` bytes, no aliases, nothing resolved or constructed; else one sentence."""
    try:
        text = read_bounded(path, limit)
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({reason(error)}).") from None
    except (yaml.YAMLError, RecursionError, UnicodeDecodeError) as error:
        why = reason(error)
        raise ConfigError(f"{path} is not YAML lstm-lab reads ({why}): {REFUSED}.") from None


def load_json(path: str | Path, limit: int = MAX_RECORD_BYTES) -> Any:
    """A JSON record from a run or sweep folder (metrics.json), read with load_yaml's bounds."""
    try:
        return json.loads(read_bounded(path, limit))
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({reason(error)}).") from None
    except (ValueError, RecursionError) as error:
        why = reason(error)
        raise ConfigError(f"{path} is not JSON lstm-lab reads ({why}): {REFUSED}.") from None


def format_table(metrics: dict[str, float]) -> str:
    """Two aligned columns, metric and value, for the terminal and train.log."""
    width = max(len(k) for k in metrics)
    rows = [f"  {'metric':<{width}}  value", f"  {'-' * width}  ------"]
    rows += [f"  {k:<{width}}  {v:.6g}" for k, v in metrics.items()]
    return "\n".join(rows)
