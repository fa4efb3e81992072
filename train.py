"""Train an LSTM experiment: `python train.py experiment=bilstm` (see configs/)."""

import gc

# Importing torch and Lightning makes about a million objects that live until exit. With the
# cyclic collector off meanwhile, then those objects frozen out of its sight, it stops
# rescanning them during the imports and once more at exit: about a second per run.
gc.disable()
from lstm_lab.train import cli  # noqa: E402

gc.freeze()
gc.enable()

if __name__ == "__main__":
    cli()
