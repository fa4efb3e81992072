"""Prediction intervals: split-conformal calibration, the pinball loss and interval scores.

numpy and torch only, below data, models and tasks: anything may import it.
"""
