"""lstm-lab: PyTorch Lightning + Hydra experiments with LSTMs."""

__version__ = "0.1.0"
