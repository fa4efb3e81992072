"""LightningDataModules that generate the seed's datasets in memory."""

from lstm_lab.data.cumsum import CumsumDataModule
from lstm_lab.data.sine_product import SineProductDataModule

__all__ = ["CumsumDataModule", "SineProductDataModule"]
