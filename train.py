"""Train an LSTM experiment: `python train.py experiment=bilstm` (see configs/)."""

from lstm_lab.train import cli

if __name__ == "__main__":
    cli()
