"""The training engine: compiled once per architecture, bounded, Keras-faithful."""

import numpy as np
import pytest
from sklearn.datasets import make_regression

from kerasreg import DenseRegressor, _engine


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=90, n_features=3, noise=0.1, random_state=1)


def _workspace(spec_sizes, optimizer="adam", loss="mae"):
    for (spec, opt, lss), ws in _engine.POOL._idle.items():
        if spec.hidden_layer_sizes == spec_sizes and (opt, lss) == (optimizer, loss):
            return ws
    return None


def test_same_architecture_never_traces_again(data):
    X, y = data
    # Folds of different sizes, learning rates and seeds: one compiled epoch.
    # (The batch size and the data's power-of-two size bucket are compiled in.)
    for i, lr in enumerate([0.01, 0.001, 0.05]):
        rows = slice(i * 2, 90 - i * 2)
        DenseRegressor(
            width=7, depth=2, epochs=3, learning_rate=lr, batch_size=16, random_state=i
        ).fit(X[rows], y[rows])
    assert _workspace((7, 7)).run_epoch.experimental_get_tracing_count() == 1


def test_cache_is_bounded(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(_engine.POOL, "max_idle", 3)
    for width in range(1, 7):
        DenseRegressor(width=width, depth=1, epochs=1).fit(X, y)
    assert len(_engine.POOL._idle) == 3


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
def test_update_rules_match_keras_optimizers(optimizer):
    # One full-batch step of each update rule against Keras's own optimizer.
    import keras
    import tensorflow as tf

    from kerasreg._network import NetworkSpec, build_model, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,))
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    result = _engine.train(
        spec, weights, (x, y, np.ones(8, "float32")), optimizer=optimizer,
        learning_rate=0.01, batch_size=8, epochs=2, shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    opt = _engine.OPTIMIZERS[optimizer](learning_rate=0.01)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = keras.losses.mean_absolute_error(y, model(x))
            loss = tf.reduce_mean(loss)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))  # fmt: skip
    for ours, theirs in zip(result.weights, model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_batch_norm_statistics_match_keras():
    # The first step's batch statistics update the moving mean and variance
    # exactly as keras.layers.BatchNormalization(training=True) does.
    from kerasreg._network import NetworkSpec, build_model, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,), batch_norm=True)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    result = _engine.train(
        spec, weights, (x, y, np.ones(8, "float32")), batch_size=8, epochs=1,
        shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    model(x, training=True)
    for index in (4, 5):  # moving_mean, moving_variance
        np.testing.assert_allclose(result.weights[index], model.get_weights()[index], rtol=1e-6)


def test_graph_mode_after_the_xla_budget(data, monkeypatch):
    # Past the XLA budget, workspaces run the same epoch without XLA: same
    # results up to rounding, and nothing compiled that the process keeps.
    X, y = data
    params = dict(width=3, depth=1, epochs=3, random_state=0, early_stopping=False)
    with_xla = DenseRegressor(**params).fit(X, y).predict(X)
    _engine.POOL.clear()
    monkeypatch.setattr(_engine, "_XLA_WORKSPACES", 0)
    without = DenseRegressor(**params).fit(X, y).predict(X)
    assert _workspace((3,)).run_epoch._jit_compile is False
    np.testing.assert_allclose(without, with_xla, rtol=1e-4, atol=1e-4)
    _engine.POOL.clear()
