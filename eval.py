"""Rescore a finished run: `python eval.py run_dir=<run>` (see configs/eval.yaml)."""

from lstm_lab.evaluate import main

if __name__ == "__main__":
    main()
