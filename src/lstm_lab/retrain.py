"""`python retrain.py <search dir> [trial=N] [key=value ...]`: train an Optuna search's best
trial again at its recipe's full step budget, as `python train.py` with that trial's settings.

The run folder is named after the search and the trial (`bilstm_optuna_trial17_<date>`);
extra `key=value` overrides (and Hydra's flags, e.g. `--cfg job`) go to train.py as given.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lstm_lab.errors import ConfigError


def retrain_argv(argv: list[str]) -> list[str]:
    """train.py's command line for `retrain.py <search dir> [trial=N] [args ...]`."""
    args = argv[1:]
    if not args or "=" in args[0] or args[0].startswith("-"):
        raise ConfigError(
            "give the search's folder first: python retrain.py "
            "outputs/train/hparams_search/<study> [trial=N] [key=value ...]."
        )
    search_dir = Path(args[0]).expanduser().absolute()
    trial = [a for a in args[1:] if a.startswith("trial=")]
    rest = [a for a in args[1:] if not a.startswith("trial=")]
    number = None
    if trial:
        value = trial[-1].split("=", 1)[1]
        if not value.isdigit():
            raise ConfigError(f"trial={value} is not a trial number: write trial=<number>.")
        number = int(value)
    from lstm_lab.sweep.best import retrain_overrides

    return [str(Path(argv[0]).with_name("train.py")), *retrain_overrides(search_dir, number), *rest]


def cli() -> None:
    """`python retrain.py ...`: one sentence for a wrong folder, then train.py's own checks."""
    from lstm_lab.errors import report

    try:
        sys.argv = retrain_argv(sys.argv)
    except ConfigError as error:
        report(error)
        sys.exit(2)
    from lstm_lab.train import cli as train

    train()
