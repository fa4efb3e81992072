"""Train an Optuna search's best trial at its recipe's full budget: `python retrain.py <dir>`."""

from lstm_lab.retrain import cli

if __name__ == "__main__":
    cli()
