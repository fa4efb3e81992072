"""Rescore a finished run: `python eval.py run_dir=<run>` (see configs/eval.yaml)."""

from lstm_lab.evaluate import cli

if __name__ == "__main__":
    cli()
