"""Where the configs live, and building the project's objects from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from lstm_lab.errors import ConfigError

CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "configs")


def instantiate(node: DictConfig, **kwargs: Any) -> Any:
    """hydra.utils.instantiate with plain containers, surfacing our ConfigError unwrapped."""
    try:
        return hydra.utils.instantiate(node, _convert_="all", **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, ConfigError):
            raise error.__cause__ from None
        raise


def load_group_option(name: str) -> DictConfig:
    """One config group option with its defaults applied, e.g. `model/classifier`."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose(name)
    GlobalHydra.instance().clear()
    group = name.split("/", 1)[0]
    return cfg[group]


def build(name: str, **overrides: Any) -> Any:
    """The object a config group option describes, with some values replaced.

    The configs hold the defaults (one place); this builds e.g. a classifier for a test:
    `build("model/classifier", hidden_size=4)`.
    """
    return instantiate(load_group_option(name), **overrides)
