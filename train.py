"""Train an LSTM experiment: `python train.py experiment=bilstm` (see configs/)."""

from lstm_lab.train import main

if __name__ == "__main__":
    main()
