"""LightningDataModules that generate the seed's datasets in memory."""

from lstm_lab.data.cumsum import CumsumDataModule
from lstm_lab.data.function import FunctionDataModule

__all__ = ["CumsumDataModule", "FunctionDataModule"]
