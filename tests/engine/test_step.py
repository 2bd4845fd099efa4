"""The written-out step against Keras: the same updates, gradients and statistics.

These parity tests are the upgrade canary: a new Keras or TensorFlow whose
layers, losses or optimizers compute differently fails here first.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import same_as_keras_fit, train_config, train_like_keras_fit

from kerasreg._engine import train
from kerasreg._network import NetworkSpec, build_model, initial_weights
from kerasreg._registry import ACTIVATIONS, LOSSES, OPTIMIZERS


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_update_rules_match_keras_optimizers(optimizer):
    # Two full-batch steps of each update rule against Keras's own optimizer.
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,))
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    config = train_config(
        optimizer=optimizer, learning_rate=0.01, batch_size=8, epochs=2, shuffle=False,
        early_stopping=False,
    )  # fmt: skip
    result = train(spec, weights, (x, y, np.ones(8, "float32")), None, config)
    model = build_model(spec, weights)
    opt = getattr(keras.optimizers, OPTIMIZERS[optimizer].keras_class)(learning_rate=0.01)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = keras.losses.mean_absolute_error(y, model(x))
            loss = tf.reduce_mean(loss)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))  # fmt: skip
    for ours, theirs in zip(result.weights, model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


_KERAS_LOSSES = {
    "mae": keras.losses.mean_absolute_error,
    "mse": keras.losses.mean_squared_error,
    "huber": keras.losses.huber,
}


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_written_out_gradients_match_keras(activation, loss):
    # The engine's backward pass is written out (not GradientTape's): one SGD
    # step on two hidden layers, two outputs and uneven sample weights moves
    # the weights as the gradient of Keras's model and loss does.
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 2, (5, 4), activation=activation)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), 2 * rng.rand(8, 2).astype("float32")
    w = rng.rand(8).astype("float32")
    config = train_config(
        optimizer="sgd", loss=loss, learning_rate=0.5, batch_size=8, epochs=1, shuffle=False,
        early_stopping=False,
    )  # fmt: skip
    result = train(spec, weights, (x, y, w), None, config)
    model = build_model(spec, weights)
    with tf.GradientTape() as tape:
        mean = tf.reduce_sum(_KERAS_LOSSES[loss](y, model(x)) * w) / np.sum(w)
    grads = tape.gradient(mean, model.trainable_variables)
    for ours, start, grad in zip(result.weights, weights, grads):
        np.testing.assert_allclose(ours, start - 0.5 * grad.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_statistics_match_keras():
    # The first step's batch statistics update the moving mean and variance
    # exactly as keras.layers.BatchNormalization(training=True) does.
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,), batch_norm=True)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    config = train_config(batch_size=8, epochs=1, shuffle=False, early_stopping=False)
    result = train(spec, weights, (x, y, np.ones(8, "float32")), None, config)
    model = build_model(spec, weights)
    model(x, training=True)
    for index in (4, 5):  # moving_mean, moving_variance
        np.testing.assert_allclose(result.weights[index], model.get_weights()[index], rtol=1e-6)


@pytest.mark.parametrize("xla", [False, True])
def test_epochs_with_a_partial_last_batch_train_as_keras_fit(xla):
    # 10 rows in batches of 4: batches of 4, 4 and 2 rows, each an Adam step
    # on its rows' mean loss, and the validation loss over all 5 rows: what
    # Keras's model.fit(shuffle=False) does. A plain graph runs the last batch
    # at its size, XLA padded with rows of weight 0; the same steps.
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,))
    weights = initial_weights(spec, rng)
    x, y = rng.rand(15, 3).astype("float32"), rng.rand(15, 1).astype("float32")
    ones = np.ones(15, "float32")
    config = train_config(
        learning_rate=0.01, batch_size=4, epochs=2, shuffle=False, early_stopping=False,
        jit_compile=xla,
    )  # fmt: skip
    result = train(spec, weights, (x[:10], y[:10], ones[:10]), (x[10:], y[10:], ones[10:]), config)
    history = same_as_keras_fit(
        build_model(spec, weights), keras.optimizers.Adam(0.01), x, y, result
    )
    val_loss = [v for _, v in result.history]
    np.testing.assert_allclose(val_loss, history["val_loss"], rtol=1e-5)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_l2_penalty_trains_as_keras_kernel_regularizer(batch_norm):
    # alpha is Keras's L2(alpha) on every Dense kernel: the same weights after
    # two epochs of Adam, and the same loss and val_loss, which Keras reports
    # with the penalty included (written-out backward pass, and GradientTape's
    # with batch norm).
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,), batch_norm=batch_norm)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(15, 3).astype("float32"), rng.rand(15, 1).astype("float32")
    alpha = 0.05
    result, keras_optimizer = train_like_keras_fit(
        spec, weights, x, y, batch_norm=batch_norm, alpha=alpha
    )
    regularized = [
        keras.Input((3,)),
        keras.layers.Dense(5, activation="relu", kernel_regularizer=keras.regularizers.L2(alpha)),
    ]
    if batch_norm:
        regularized.append(keras.layers.BatchNormalization(epsilon=1e-3))
    regularized.append(keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(alpha)))
    model = keras.Sequential(regularized)  # fmt: skip
    model.set_weights(weights)
    history = same_as_keras_fit(model, keras_optimizer, x, y, result)
    loss, val_loss = np.array(result.history).T
    np.testing.assert_allclose(loss, history["loss"], rtol=1e-5)
    np.testing.assert_allclose(val_loss, history["val_loss"], rtol=1e-5)
