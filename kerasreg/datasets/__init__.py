"""Small tabular regression data sets shipped with kerasreg."""

from ._base import load_cereals, load_red_wine

__all__ = ["load_cereals", "load_red_wine"]
