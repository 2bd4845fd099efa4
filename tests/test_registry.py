"""Each registry entry against Keras: the same function, the same defaults."""

import inspect

import keras
import numpy as np
import pytest

from kerasreg import DenseRegressor
from kerasreg._registry import ACTIVATIONS, LOSSES, OPTIMIZERS


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_numpy_and_tensorflow_equal_keras(name):
    z = np.linspace(-40, 40, 161)
    expected = keras.ops.convert_to_numpy(keras.activations.get(name)(z.astype("float32")))
    entry = ACTIVATIONS[name]
    np.testing.assert_allclose(entry.numpy(z), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(entry.tensorflow(z.astype("float32")), expected, rtol=1e-6)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_numpy_and_tensorflow_equal_keras(name):
    rng = np.random.RandomState(0)
    y, p = 3 * rng.rand(20, 2), 3 * rng.rand(20, 2)
    expected = keras.ops.convert_to_numpy(keras.losses.get(name)(y, p))
    entry = LOSSES[name]
    np.testing.assert_allclose(entry.numpy(y, p), expected, rtol=1e-6)
    np.testing.assert_allclose(entry.tensorflow(y, p), expected, rtol=1e-6)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_defaults_are_keras_defaults(name):
    entry = OPTIMIZERS[name]
    keras_optimizer = entry.keras(learning_rate=0.01)
    assert type(keras_optimizer).__name__ == entry.keras_class
    for hyper, value in entry.hyper.items():
        assert getattr(keras_optimizer, hyper) == pytest.approx(value, rel=1e-12), hyper


def test_parameter_choices_come_from_the_registry():
    constraints = DenseRegressor._parameter_constraints
    for param, table in (("activation", ACTIVATIONS), ("loss", LOSSES), ("optimizer", OPTIMIZERS)):
        (options,) = constraints[param]
        assert options.options == set(table)
        # The docstring lists the same choices.
        choices = "{" + ", ".join(f'"{n}"' for n in table) + "}"
        assert f"{param} : {choices}, default=" in inspect.getdoc(DenseRegressor)
