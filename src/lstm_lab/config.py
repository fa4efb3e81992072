"""Where the configs live, and building the project's objects from them."""

from __future__ import annotations

import difflib
import re
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
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(error.__cause__))
        if isinstance(error.__cause__, TypeError) and unknown:
            raise unknown_argument(node, unknown.group(1)) from None
        # Whatever a class refuses in its settings (Lightning's Trainer, a logger, a callback)
        # is a value the user set: one sentence naming the group.
        group = node._get_full_key(None) or "the config"
        cause = error.__cause__ or error
        reason = " ".join((str(cause).strip().splitlines() or [type(cause).__name__])[0].split())
        raise ConfigError(
            f"{group} cannot be built from its settings ({type(cause).__name__}: {reason[:200]}); "
            f"change the {group}.* values you set."
        ) from None


def unknown_argument(node: DictConfig, name: str) -> ConfigError:
    """One sentence for `+model.hiden_size=3`: the key the class does not take, and close ones."""
    group = node._get_full_key(None) or "the config"
    known = [str(key) for key in node if key != name and not str(key).startswith("_")]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    fix = f"did you mean {' or '.join(f'{group}.{k}' for k in close)}?" if close else "remove it."
    return ConfigError(
        f"{group}.{name} is not a setting of {node._target_.rsplit('.', 1)[-1]}: {fix}"
    )


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
