"""Shared fixtures: compose the real Hydra configs the way `python train.py` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from lstm_lab.config import CONFIG_DIR

EXPERIMENTS = sorted(p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml"))
REPO_ROOT = Path(CONFIG_DIR).parent


@pytest.fixture(autouse=True)
def _one_thread_and_clean_hydra():
    # The suite runs on 2 cores; extra intra-op threads only add contention for tiny LSTMs.
    torch.set_num_threads(1)
    yield
    GlobalHydra.instance().clear()


def compose_config(overrides: list[str], output_dir: Path) -> DictConfig:
    """The config `python train.py <overrides>` would run, writing into `output_dir`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.root_dir = str(REPO_ROOT)
        cfg.paths.log_dir = str(output_dir.parent)
        cfg.paths.output_dir = str(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def run_cli(
    *args: str, script: str = "train.py", timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run an entry point exactly as a user would, from the repository root."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def start_cli(*args: str, output: Path, script: str = "train.py") -> subprocess.Popen:
    """Start an entry point as run_cli does, without waiting, so a test can signal it while
    it runs; its stdout and stderr go to `output` (a pipe nobody reads could stall it)."""
    with output.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, script, *args],
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "HYDRA_FULL_ERROR": "0"},
            # Ctrl-C must reach it even where the shell running the tests ignores SIGINT.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    def _make(*overrides: str, output_dir: Path | None = None) -> DictConfig:
        return compose_config(list(overrides), output_dir or tmp_path / "run")

    return _make
