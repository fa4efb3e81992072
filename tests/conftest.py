"""Shared fixtures: compose the real Hydra configs the way `python train.py` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from lstm_lab.config import CONFIG_DIR

EXPERIMENTS = sorted(
    p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml") if not p.stem.startswith("_")
)
REPO_ROOT = Path(CONFIG_DIR).parent


# Tiers true to their names: a test without the e2e or slow marker starts no process.
_unit_test: list[str] = []  # the node id of the running unit test, if one is running
_popen_init = subprocess.Popen.__init__


def _guarded_popen_init(self: subprocess.Popen, *args: Any, **kwargs: Any) -> None:
    if _unit_test:
        raise AssertionError(
            f"{_unit_test[0]} starts a process but has no tier marker: mark it "
            "@pytest.mark.e2e (or slow), or test in-process."
        )
    _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _guarded_popen_init  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    # Set before the item's fixtures (module-scoped ones included) are set up.
    unit = not any(item.iter_markers("e2e")) and not any(item.iter_markers("slow"))
    _unit_test[:] = [item.nodeid] if unit else []
    yield
    _unit_test.clear()


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


def cli_command(script: str, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, str(REPO_ROOT / script), *args]


def cli_env(env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})}


def run_cli(
    *args: str,
    script: str = "train.py",
    cwd: Path = REPO_ROOT,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    """Run an entry point exactly as a user would (from the repository root by default)."""
    return subprocess.run(
        cli_command(script, args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(env),
    )


def start_cli(*args: str, script: str = "train.py", **popen: Any) -> subprocess.Popen:
    """Start an entry point in the background (to signal or kill it), output discarded."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(cli_command(script, args), cwd=REPO_ROOT, env=cli_env(None), **popen)


def wait_for(condition: Callable[[], bool], timeout: float = 240, what: str = "a state") -> None:
    """Poll until `condition()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    def _make(*overrides: str, output_dir: Path | None = None) -> DictConfig:
        return compose_config(list(overrides), output_dir or tmp_path / "run")

    return _make
