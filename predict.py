"""Forecast past a run's data: `python predict.py run_dir=<run> [data.path=<newer CSV>]`."""

from lstm_lab.predict import cli

if __name__ == "__main__":
    cli()
