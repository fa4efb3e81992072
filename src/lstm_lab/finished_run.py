"""A finished run, found from its checkpoint or folder: its saved config, data and model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from lstm_lab.config import instantiate
from lstm_lab.errors import ConfigError

CHECKPOINT_NAMES = ("best.ckpt", "last.ckpt")


@dataclass
class Run:
    """What eval.py and export.py need from a run folder made by train.py."""

    dir: Path
    ckpt_path: Path
    name: str
    datamodule: pl.LightningDataModule
    model: pl.LightningModule


def locate(ckpt_path: str | None, run_dir: str | None) -> tuple[Path, Path]:
    """(run folder, checkpoint) from either value; the run folder holds `.hydra/config.yaml`."""
    if ckpt_path:
        ckpt = Path(ckpt_path).expanduser().resolve()
        if not ckpt.is_file():
            raise ConfigError(
                f"ckpt_path={ckpt_path} does not exist; point it at a run's "
                "checkpoints/best.ckpt or checkpoints/last.ckpt."
            )
        if run_dir:
            run = Path(run_dir).expanduser().resolve()
        else:
            run = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    elif run_dir:
        run = Path(run_dir).expanduser().resolve()
        found = [run / "checkpoints" / name for name in CHECKPOINT_NAMES]
        found = [path for path in found if path.is_file()]
        if not found:
            raise ConfigError(
                f"run_dir={run_dir} holds no checkpoints/best.ckpt or checkpoints/last.ckpt; "
                "point it at a folder that train.py wrote."
            )
        ckpt = found[0]
    else:
        raise ConfigError("Give ckpt_path=<run>/checkpoints/best.ckpt or run_dir=<run>.")
    if not (run / ".hydra" / "config.yaml").is_file():
        raise ConfigError(
            f"{run} has no .hydra/config.yaml to rebuild the data and model from; "
            "pass run_dir=<the run folder train.py wrote>."
        )
    return run, ckpt


def load_run(ckpt_path: str | None = None, run_dir: str | None = None) -> Run:
    """Rebuild a run's datamodule from its saved config and its model from the checkpoint."""
    run, ckpt = locate(ckpt_path, run_dir)
    saved = OmegaConf.load(run / ".hydra" / "config.yaml")
    # Only these nodes are resolved: the rest refers to ${hydra:...}, which exists only
    # inside the training process.
    data_cfg = OmegaConf.create(OmegaConf.to_container(saved.data, resolve=True))
    model_cfg: DictConfig = saved.model
    datamodule = instantiate(data_cfg)
    model_cls = get_class(model_cfg._target_)
    try:
        model = model_cls.load_from_checkpoint(ckpt, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        raise ConfigError(
            f"ckpt_path={ckpt} is not a readable {model_cls.__name__} checkpoint ({reason}); "
            "point it at a run's checkpoints/best.ckpt or checkpoints/last.ckpt."
        ) from None
    model.eval()
    return Run(run, ckpt, str(saved.get("name", run.name)), datamodule, model)
