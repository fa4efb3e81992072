"""The export entry point: write a run's checkpoint as an ONNX model for inference.

    python export.py ckpt_path=<run>/checkpoints/best.ckpt     # or run_dir=<run>

Needs the `onnx` extra (`pip install -e '.[onnx]'`; `make install` includes it).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from torch import Tensor

from lstm_lab.cli import launch, one_sentence_errors
from lstm_lab.config import CONFIG_DIR
from lstm_lab.errors import ConfigError
from lstm_lab.finished_run import load_run, output_folder
from lstm_lab.io import atomic_path, reason
from lstm_lab.validation import WRITABLE_FIX, check_bool, check_int, check_writable_dir

log = logging.getLogger(__name__)

INPUT_NAME = "x"


def export_onnx(model: pl.LightningModule, example: Tensor, path: Path) -> Path:
    """Write `model` as one ONNX file; the batch size is free, the window length is example's.

    Inputs and outputs are what `model.forward` takes and returns: windows (B, lookback, 1)
    to next values (B,) in original units, or sequences (B, T, 1) to per-step logits (B, T).
    Written to a temporary file beside `path` and renamed, so a failed export leaves no file.
    """
    model.eval()
    try:
        with quiet_exporter(), atomic_path(path) as tmp:
            model.to_onnx(
                tmp,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[model.output_name],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                external_data=False,
                verbose=False,
            )
    except ModuleNotFoundError as error:
        raise ConfigError(
            f"ONNX export needs {error.name or 'onnx'}; install the extra with "
            "`pip install -e '.[onnx]'` (make install does)."
        ) from None
    return path


@contextmanager
def quiet_exporter() -> Iterator[None]:
    """Hide the exporter's progress notes and torch.export's internal notices.

    None of them is actionable by someone exporting a model (the optimizer's INFO lines,
    "torchvision is not installed", deprecations inside torch.export), and they would bury
    the two lines export.py prints.
    """
    loggers = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", "The tensor attributes", UserWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def onnx_outputs(path: Path, x: Tensor) -> Tensor:
    """What onnxruntime computes for input `x` with the model at `path`."""
    try:
        import onnxruntime
    except ModuleNotFoundError:
        raise ConfigError(
            "checking the export needs onnxruntime; install the extra with "
            "`pip install -e '.[onnx]'`, or pass check=false."
        ) from None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {INPUT_NAME: x.numpy()})[0])


def export(cfg: DictConfig) -> Path:
    """Export a finished run's checkpoint; returns the .onnx path."""
    check_bool("check", cfg.check)
    if cfg.get("num_threads") is not None:
        torch.set_num_threads(check_int("num_threads", cfg.num_threads))
    if cfg.get("output") is not None and not str(cfg.output).endswith(".onnx"):
        raise ConfigError(f"output={cfg.output} is invalid: name a file ending in .onnx.")
    run = load_run(cfg.get("ckpt_path"), cfg.get("run_dir"))
    x, _ = run.datamodule.test
    if cfg.get("output"):
        path = write_to(Path(cfg.output), run.model, x)
    else:
        with output_folder(run.dir, "export", "the .onnx file") as folder:
            path = export_onnx(run.model, x[:2], folder / f"{run.ckpt_path.stem}.onnx")
    print(f"Wrote {path} (input {INPUT_NAME!r}: {tuple(x.shape[1:])} per item, any batch size)")
    if cfg.check:
        with torch.no_grad():
            expected = run.model(x)
        difference = float((onnx_outputs(path, x) - expected).abs().max())
        print(
            f"onnxruntime vs PyTorch on the {len(x)} test inputs: max |difference| {difference:.2e}"
        )
    return path


def write_to(path: Path, model: pl.LightningModule, x: Tensor) -> Path:
    """The export at `output=`, a path of the user's own (its folder is made if missing)."""
    try:
        path = path.expanduser()
    except RuntimeError as error:  # ~user that does not exist
        raise ConfigError(f"cannot write output={path} ({reason(error)}).") from None
    check_writable_dir(path.parent, f"the .onnx file into {path.parent}", WRITABLE_FIX)
    if path.is_dir():
        raise ConfigError(f"output={path} is a folder: name a file ending in .onnx.")
    try:
        return export_onnx(model, x[:2], path)
    except OSError as error:
        why = reason(error)
        raise ConfigError(f"cannot write output={path} ({why}): {WRITABLE_FIX}.") from None


main = hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="export")(
    one_sentence_errors(export)
)


def cli() -> None:
    """`python export.py ...`: one-sentence errors for mistakes Hydra would print as a traceback."""
    launch(main, "export")
