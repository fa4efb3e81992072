"""The class path hydra-optuna-sweeper configs name, answered by lstm-lab's sweeper."""

from hydra_plugins.lstm_lab_optuna_sweeper import optuna_sweeper


# A subclass, not an alias: Hydra registers a plugin under its class's own module.
class OptunaSweeper(optuna_sweeper.OptunaSweeper):
    """lstm-lab's Optuna sweeper under hydra-optuna-sweeper's class path."""
