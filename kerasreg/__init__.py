"""kerasreg: the Keras regression network as a scikit-learn estimator.

Public names load on first use, so that ``import kerasreg`` imports neither
scikit-learn nor TensorFlow; TensorFlow loads on the first ``fit``.

>>> from kerasreg import DenseRegressor
>>> DenseRegressor(width=64, depth=2)
DenseRegressor(depth=2, width=64)
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "DenseRegressor": "kerasreg._estimator",
    "datasets": "kerasreg.datasets",
    "load": "kerasreg._persistence",
    "read_metadata": "kerasreg._persistence",
    "TrainingHistoryDisplay": "kerasreg.plotting",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if module.__name__ == f"kerasreg.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerasreg' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
