"""LightningModules wrapping nn.LSTM: a regressor and a per-step sequence classifier."""

from lstm_lab.models.classifier import LSTMSequenceClassifier
from lstm_lab.models.regressor import LSTMRegressor

__all__ = ["LSTMRegressor", "LSTMSequenceClassifier"]
