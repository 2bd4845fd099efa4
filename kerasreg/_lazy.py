"""A module that is imported on its first attribute access."""

import importlib


class LazyModule:
    """Stands for the module ``name``, imported when an attribute is first read.

    Lets a module name TensorFlow's functions without importing TensorFlow:
    ``import kerasreg`` and ``predict`` stay free of it.
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)
