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


def same_as_keras_fit(model, optimizer, x, y, result):
    """Keras's model.fit of model on rows 0-9 (validation 10-14), 2 epochs in batches of 4,
    unshuffled, MAE: its weights must equal the engine's result's; returns its history."""
    model.compile(optimizer=optimizer, loss="mae")
    fitted = model.fit(
        x[:10], y[:10], batch_size=4, epochs=2, shuffle=False,
        validation_data=(x[10:], y[10:]), verbose=0,
    )  # fmt: skip
    theirs = model.get_weights()
    assert [w.shape for w in result.weights] == [w.shape for w in theirs]
    for ours, their in zip(result.weights, theirs):
        np.testing.assert_allclose(ours, their, rtol=1e-5, atol=1e-6)
    return fitted.history


def train_like_keras_fit(spec, weights, x, y, batch_norm=False, **changes):
    """The engine's run that same_as_keras_fit repeats in Keras; returns (result, Keras optimizer).

    Rows 0-9 (validation 10-14) in batches of 4, 2 epochs, unshuffled, at a
    learning rate of 0.01. With batch norm the hidden biases' gradient is zero
    but for rounding, which Adam's normalised steps would blow up to its step
    size: SGD there.
    """
    import keras

    from kerasreg._engine import train

    ones = np.ones(len(x), "float32")
    config = train_config(
        optimizer="sgd" if batch_norm else "adam", learning_rate=0.01, batch_size=4, epochs=2,
        shuffle=False, early_stopping=False, **changes,
    )  # fmt: skip
    result = train(spec, weights, (x[:10], y[:10], ones[:10]), (x[10:], y[10:], ones[10:]), config)
    keras_optimizer = keras.optimizers.SGD(0.01) if batch_norm else keras.optimizers.Adam(0.01)
    return result, keras_optimizer
