"""Checkpoints as data: read once, bounded and with weights_only=True, checked against the
model before any tensor is copied; written to a temporary file beside them and renamed.

Reading is bounded before `torch.load` allocates anything: torch.save writes a zip whose
records are stored uncompressed, so a record that is compressed (a 1 MB file that inflates
to a 1 GiB tensor) is refused from the zip's directory alone, and the tensors are then
memory-mapped (`mmap=True`): their bytes are only read when a shape-checked copy needs them.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from lstm_lab.errors import ConfigError
from lstm_lab.io import atomic_write, reason

FIX = "point it at a run's checkpoints/best.ckpt or checkpoints/last.ckpt"
# A Lightning checkpoint's pickle (hyperparameters, loop and callback states) is a few KB;
# the unpickler holds it in memory whole.
MAX_PICKLE_BYTES = 16 << 20
# Besides the model's weights a checkpoint holds the optimizer's state (AdamW: two tensors
# per weight) and small loop, stream and RNG states; more than this is not a checkpoint.
MAX_OTHER_ELEMENTS = 4
MAX_SMALL_ELEMENTS = 1 << 20

# The checkpoint last read, until Lightning takes it: resume reads last.ckpt once.
_cache: dict[tuple, dict[str, Any]] = {}


def check_checkpoint_file(path: str | Path, key: str = "ckpt_path") -> Path:
    """`path` is a regular file with something in it."""
    try:
        path = Path(path).expanduser()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{key}={path} does not exist; {FIX}.") from None
    except (OSError, RuntimeError) as error:  # RuntimeError: ~user that does not exist
        raise ConfigError(f"cannot read {key}={path} ({reason(error)}); {FIX}.") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{key}={path} is not a file; {FIX}.")
    if path.stat().st_size == 0:
        raise ConfigError(f"{key}={path} is an empty file; {FIX}.")
    return path


def check_archive(path: Path) -> None:
    """The zip torch.save writes: records stored uncompressed, within the file, a small pickle."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        records = archive.infolist()
    for record in records:
        if record.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"{record.filename} is compressed, which torch.save never does")
        if record.header_offset + record.file_size > size:
            raise ValueError(f"{record.filename} claims more bytes than the file holds")
        if record.filename.endswith("data.pkl") and record.file_size > MAX_PICKLE_BYTES:
            raise ValueError(f"{record.filename} is {record.file_size:,} bytes")


def tensors(node: Any, seen: set[int] | None = None) -> list[torch.Tensor]:
    """Every tensor below `node`, each shared object visited once (a pickle may share)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    if isinstance(node, torch.Tensor):
        return [node]
    if isinstance(node, dict):
        return [t for value in node.values() for t in tensors(value, seen)]
    if isinstance(node, list | tuple):
        return [t for value in node for t in tensors(value, seen)]
    return []


def check_sizes(checkpoint: dict[str, Any]) -> None:
    """Tensors beside the weights stay within what an optimizer and loop states need."""
    weights = sum(t.numel() for t in checkpoint["state_dict"].values() if torch.is_tensor(t))
    rest = {k: v for k, v in checkpoint.items() if k != "state_dict"}
    other = sum(t.numel() for t in tensors(rest))
    if other > MAX_OTHER_ELEMENTS * weights + MAX_SMALL_ELEMENTS:
        raise ValueError(f"{other:,} values beside {weights:,} weights")


def read_checkpoint(path: str | Path, key: str = "ckpt_path") -> dict[str, Any]:
    """A Lightning checkpoint loaded as data (weights_only=True: it runs no code), bounded
    and memory-mapped, or one sentence."""
    path = check_checkpoint_file(path, key)
    info = path.stat()
    cache_key = (str(path.resolve()), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if cache_key in _cache:
        return _cache[cache_key]
    try:
        check_archive(path)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
            check_sizes(checkpoint)
    except Exception as error:
        raise ConfigError(
            f"{key}={path} is not a readable checkpoint ({reason(error)}); {FIX}."
        ) from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise ConfigError(f"{key}={path} is not a Lightning checkpoint (no state_dict); {FIX}.")
    _cache.clear()
    _cache[cache_key] = checkpoint
    return checkpoint


def take_checkpoint(path: str | Path) -> dict[str, Any]:
    """read_checkpoint, handing the checkpoint over: the next read of `path` reads it anew
    (the taker may change the tensors in place, e.g. an optimizer's state)."""
    checkpoint = read_checkpoint(path)
    _cache.clear()
    return checkpoint


def differing_weights(wanted: dict[str, torch.Tensor], saved: dict[str, Any]) -> list[str]:
    """Names of the weights whose presence, shape or dtype differ (compares metadata only)."""
    names = sorted(set(wanted) | set(saved))
    return [
        name
        for name in names
        if name not in wanted
        or not torch.is_tensor(saved.get(name))
        or saved[name].shape != wanted[name].shape
        or saved[name].dtype != wanted[name].dtype
    ]


def check_fits(model: torch.nn.Module, path: str | Path, key: str = "ckpt_path") -> None:
    """The checkpoint at `path` holds weights of this model's shapes and dtypes (a run of this
    experiment); checked on the mapped file before anything is copied."""
    checkpoint = read_checkpoint(path, key)
    differing = differing_weights(model.state_dict(), checkpoint["state_dict"])
    if not differing:
        return
    theirs = checkpoint.get("hyper_parameters") or {}
    ours = dict(getattr(model, "hparams", {}))
    settings = [
        f"model.{k}={theirs[k]!r} there, {ours[k]!r} here"
        for k in sorted(set(theirs) & set(ours))
        if theirs[k] != ours[k] and not isinstance(ours[k], dict)
    ]
    detail = "; ".join(settings[:3]) or f"{len(differing)} weights differ, e.g. {differing[0]}"
    raise ConfigError(
        f"{key}={path} was trained with another model ({detail}): resume it with its own "
        "overrides (resume=<its run folder>) or leave ckpt_path out."
    )


class RunCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint reader and writer for lstm-lab runs.

    Writes go to a temporary file beside the checkpoint and are renamed over it (Lightning's
    own goes through a temporary file in TMPDIR and a copy, which a kill can cut short), so
    a kill or a full disk keeps the previous best.ckpt and last.ckpt and leaves no temporary
    file; a full disk ends the run in one sentence naming the file. Reads are
    read_checkpoint's: bounded, as data, and once (the pre-checks' read is reused).
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None):
        path = Path(path)
        # Serialised in memory first (as Lightning does): torch.save into a file reports a
        # failed write as a RuntimeError of its zip writer, not as the OSError it is.
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, buffer.getbuffer())
        except OSError as error:
            kept = f"the earlier {path.name} is kept" if path.exists() else "nothing was written"
            raise ConfigError(
                f"cannot write the checkpoint {path} ({reason(error)}; {kept}): free space "
                f"in {path.parent} or set paths.log_dir=<another folder>."
            ) from None

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: Any = None):
        return take_checkpoint(os.fspath(path))
