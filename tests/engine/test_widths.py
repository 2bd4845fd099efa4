"""XLA runs hidden layers padded to a few widths: the same training, fewer compilations."""

import keras
import numpy as np
import pytest
from helpers import idle_workspace, same_as_keras_fit, train_config, train_like_keras_fit

from kerasreg._engine import XLA_BUDGET, train, tuned
from kerasreg._engine.widths import bucket, padded_spec
from kerasreg._network import NetworkSpec, build_model, initial_weights


def _rows(n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    x, y = rng.rand(15, n_features).astype("float32"), rng.rand(15, 1).astype("float32")
    return rng, x, y, np.ones(15, "float32")


def test_buckets_are_few_and_never_smaller():
    assert {bucket(w) for w in range(1, 65)} == {64}
    assert {bucket(w, small=False) for w in range(4, 65)} == {4, 8, 16, 32, 64}
    for w in range(1, 2049):
        assert w <= bucket(w) and bucket(bucket(w)) == bucket(w)
        assert w <= bucket(w, False) <= max(4, 2 * w) and bucket(bucket(w, False), False) == bucket(
            w, False
        )
        assert w <= 64 or bucket(w) < 1.5 * w


@pytest.mark.parametrize(
    "n_features, widths, padded",
    [(11, (16, 16, 16), (64, 64, 64)), (3, (5, 3), (64, 64)), (1000, (4,), (4,)),
     (200, (5, 3), (8, 4)), (200, (40,), (64,))],
)  # fmt: skip
def test_widths_up_to_64_run_as_64_only_where_the_network_stays_small(n_features, widths, padded):
    # With many inputs a first layer of 64 units could cost many times a
    # narrow one: there widths go to the next power of two (at most twice).
    assert padded_spec(NetworkSpec(n_features, 1, widths)).hidden_layer_sizes == padded


@pytest.mark.parametrize(
    "activation, batch_norm",
    [("relu", False), ("tanh", False), ("elu", False), ("selu", False), ("swish", False),
     ("linear", False), ("relu", True)],
)  # fmt: skip
def test_a_padded_program_trains_as_keras_fit(activation, batch_norm):
    # Widths 5 and 3 run as 64 under XLA; the real units train as
    # Keras's model.fit trains the network of widths 5 and 3.
    rng, x, y, _ = _rows()
    spec = NetworkSpec(3, 1, (5, 3), activation=activation, batch_norm=batch_norm)
    assert padded_spec(spec).hidden_layer_sizes == (64, 64)
    weights = initial_weights(spec, rng)
    result, keras_optimizer = train_like_keras_fit(
        spec, weights, x, y, batch_norm=batch_norm, jit_compile=True
    )
    history = same_as_keras_fit(build_model(spec, weights), keras_optimizer, x, y, result)
    np.testing.assert_allclose([v for _, v in result.history], history["val_loss"], rtol=1e-5)
    # The program ran padded, and the padded units stayed exactly zero.
    ws = idle_workspace(2, optimizer="sgd" if batch_norm else "adam")
    padded = ws.get_weights()
    assert [w.shape for w in padded] == [tuple(s) for s in padded_spec(spec).weight_shapes()]
    for full, real in zip(padded, result.weights):
        assert np.array_equal(full[tuple(slice(0, d) for d in real.shape)], real)
        outside = np.ones(full.shape, bool)
        outside[tuple(slice(0, d) for d in real.shape)] = False
        assert not np.any(full[outside])


@pytest.mark.parametrize("spec_changes", [dict(activation="sigmoid"), dict(dropout=0.1)])
def test_what_padding_would_change_runs_unpadded(spec_changes):
    # sigmoid(0) is not 0; dropout's masks are drawn for the layer's shape.
    rng, x, y, ones = _rows()
    spec = NetworkSpec(3, 1, (5,), **spec_changes)
    assert padded_spec(spec) == spec
    config = train_config(batch_size=4, epochs=1, early_stopping=False, jit_compile=True)
    train(spec, initial_weights(spec, rng), (x, y, ones), None, config)
    assert idle_workspace(1).get_weights()[0].shape == (3, 5)


def test_padded_and_unpadded_programs_agree_to_rounding(engine_data):
    X, y = (a.astype("float32") for a in engine_data)
    spec = NetworkSpec(3, 1, (6, 5, 7))
    weights = initial_weights(spec, np.random.RandomState(0))
    data = (X[:70], y[:70, None], np.ones(70, "float32"))
    val = (X[70:], y[70:, None], np.ones(20, "float32"))
    config = train_config(batch_size=4, epochs=5, jit_compile=True, early_stopping=False)
    results = []
    for pad in (True, False):
        with tuned(pad_widths=pad):
            results.append(train(spec, weights, data, val, config))
    for a, b in zip(results[0].weights, results[1].weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(results[0].history, results[1].history, rtol=1e-5)


def test_widths_up_to_64_share_one_compilation(engine_data):
    X, y = (a.astype("float32") for a in engine_data)
    data = (X, y[:, None], np.ones(len(X), "float32"))
    config = train_config(batch_size=4, epochs=1, jit_compile=True, early_stopping=False)
    before = len(XLA_BUDGET)
    for width in (9, 4, 64, 33):
        spec = NetworkSpec(3, 1, (width, width))
        train(spec, initial_weights(spec, np.random.RandomState(0)), data, None, config)
    assert len(XLA_BUDGET) - before <= 1


def test_callbacks_see_and_set_the_real_widths(engine_data):
    X, y = (a.astype("float32") for a in engine_data)
    data = (X, y[:, None], np.ones(len(X), "float32"))
    spec = NetworkSpec(3, 1, (5,))
    seen = []

    class ZeroTheOutput(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([w.shape for w in self.model.get_weights()])
            weights = self.model.get_weights()
            weights[-2][:] = 0.0
            weights[-1][:] = 0.0
            self.model.set_weights(weights)

    config = train_config(batch_size=4, epochs=1, jit_compile=True, early_stopping=False)
    result = train(spec, initial_weights(spec, np.random.RandomState(0)), data, None, config,
                   callbacks=[ZeroTheOutput()])  # fmt: skip
    assert seen == [[(3, 5), (5,), (5, 1), (1,)]]
    assert not np.any(result.weights[-2]) and not np.any(result.weights[-1])
