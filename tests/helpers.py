"""Helpers shared by the tests (importable: pytest puts tests/ on sys.path for its conftest)."""

import numpy as np

from kerasreg import DenseRegressor


def tiny(**params):
    """A small, quick, reproducible DenseRegressor."""
    defaults = dict(width=8, depth=1, epochs=8, batch_size=16, random_state=0)
    return DenseRegressor(**{**defaults, **params})


def train_config(seed=0, **changes):
    """The engine's TrainConfig for DenseRegressor's defaults, with changes."""
    from kerasreg._engine import TrainConfig

    return TrainConfig.from_params({**DenseRegressor().get_params(), **changes}, seed=seed)


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def idle_workspace(depth, optimizer="adam", loss="mae"):
    """The engine's most recently used idle workspace of that depth, optimizer and loss."""
    from kerasreg._engine import POOL

    for (structure, opt, lss, *_), ws in reversed(POOL.idle()):
        if structure.depth == depth and (opt, lss) == (optimizer, loss):
            return ws
    return None
