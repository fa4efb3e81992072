"""The evaluation entry point: reload a finished run, rescore its test part and plot it.

    python eval.py run_dir=<run>                            # or
    python eval.py ckpt_path=<run>/checkpoints/best.ckpt

Writes `<run>/eval/<checkpoint>/` (`eval/best/`, `eval/last/`, ...: one evaluation per
checkpoint): metrics.json, a PNG, and the per-item predictions behind them. What is
reported depends on the task and comes from its task's `evaluate` (lstm_lab/tasks/).
"""

from __future__ import annotations

import logging
from typing import Any

import hydra
import torch
from omegaconf import DictConfig

from lstm_lab.cli import launch, one_sentence_errors
from lstm_lab.config import CONFIG_DIR
from lstm_lab.finished_run import load_run, output_folder
from lstm_lab.io import format_table, safe_dir, write_json
from lstm_lab.validation import check_bool, check_int

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Rescore a finished run; returns the metrics written to `<run>/eval/<ckpt>/metrics.json`."""
    check_int("n_sequences", cfg.n_sequences, minimum=0)
    check_bool("plot", cfg.plot)
    if cfg.get("num_threads") is not None:
        torch.set_num_threads(check_int("num_threads", cfg.num_threads))
    run = load_run(cfg.get("ckpt_path"), cfg.get("run_dir"))
    with output_folder(run.dir, "eval", "the evaluation") as evals:
        # One folder per checkpoint: evaluating last.ckpt keeps best.ckpt's evaluation.
        out = safe_dir(evals, run.ckpt_path.stem)
        print(f"Evaluating {run.ckpt_path}")
        metrics: dict[str, Any] = run.task.evaluate(
            run.model, run.datamodule, out, run.name, plot=cfg.plot, n_sequences=cfg.n_sequences
        )
        metrics["checkpoint"] = str(run.ckpt_path)
        write_json(out / "metrics.json", metrics)
    print(f"\nEval dir: {out}")
    print(format_table({k: v for k, v in metrics.items() if isinstance(v, float)}))
    return metrics


main = hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")(
    one_sentence_errors(evaluate)
)


def cli() -> None:
    """`python eval.py ...`: one-sentence errors for mistakes Hydra would print as a traceback."""
    launch(main, "eval")
