"""LightningModules wrapping nn.LSTM: a regressor, a forecaster and a per-step classifier."""

from lstm_lab.models.classifier import LSTMSequenceClassifier
from lstm_lab.models.direct import LSTMDirectForecaster
from lstm_lab.models.forecaster import LSTMForecaster
from lstm_lab.models.regressor import LSTMRegressor

__all__ = ["LSTMDirectForecaster", "LSTMForecaster", "LSTMRegressor", "LSTMSequenceClassifier"]
