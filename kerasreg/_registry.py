"""The activations, losses and optimizers kerasreg knows, each in one entry.

Every other place derives from these tables: the estimator's parameter
constraints and docstring choices, the command line's choices, the NumPy
forward pass, the engine's forward and backward steps and update rules, and
the tests' parametrisations. Adding an activation is one entry here.

Importing this module imports neither TensorFlow nor Keras: the TensorFlow
functions load them when first called (at a fit's first trace).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._lazy import LazyModule

tf = LazyModule("tensorflow")
_tf_compat = LazyModule("kerasreg._compat.tensorflow")
_updates = LazyModule("kerasreg._engine.updates")


@dataclass(frozen=True)
class Activation:
    """A hidden layer's activation.

    ``numpy(z)`` and ``tensorflow(z)`` compute it; ``gradient(g, z, a)`` is
    its backward pass: the upstream gradient g, the pre-activation z and the
    activation a to the gradient with respect to z, with the kernels
    TensorFlow's own gradients use.
    """

    name: str
    numpy: Callable
    tensorflow: Callable
    gradient: Callable


@dataclass(frozen=True)
class Loss:
    """A loss per row, averaged over the outputs, as the Keras loss of the same name.

    ``derivative(error)`` is its derivative with respect to the prediction,
    per output, as a function of ``error = prediction - target`` (before the
    mean over outputs).
    """

    name: str
    numpy: Callable
    tensorflow: Callable
    derivative: Callable


@dataclass(frozen=True)
class Optimizer:
    """An update rule: the Keras optimizer class, its defaults, its state and the rule.

    ``hyper`` are the Keras class's default hyper-parameters (a test checks
    them against Keras); ``slots`` the state variables per trained variable;
    ``update`` applies one step (see :mod:`kerasreg._engine.updates`).
    """

    name: str
    keras_class: str
    slots: int
    update: Callable
    hyper: dict = field(default_factory=dict)

    def keras(self, learning_rate):
        """A Keras optimizer of this rule, in the user's Keras backend."""
        import keras

        return getattr(keras.optimizers, self.keras_class)(learning_rate=learning_rate)


def _sigmoid(z):
    # Split by sign so that exp never overflows.
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _swish_grad(g, z, a):
    return g * (tf.sigmoid(z) * (1.0 + z * (1.0 - tf.sigmoid(z))))


def _by_name(*entries):
    return {entry.name: entry for entry in entries}


#: Hidden-layer activations, by their Keras names.
ACTIVATIONS = _by_name(
    Activation(
        "relu", lambda z: np.maximum(z, 0.0), lambda z: tf.nn.relu(z),
        lambda g, z, a: _tf_compat.relu_grad(g, a),
    ),
    Activation(
        "tanh", np.tanh, lambda z: tf.tanh(z), lambda g, z, a: _tf_compat.tanh_grad(g, a)
    ),
    Activation(
        "sigmoid", _sigmoid, lambda z: tf.sigmoid(z),
        lambda g, z, a: _tf_compat.sigmoid_grad(g, a),
    ),
    Activation(
        "elu", lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
        lambda z: tf.nn.elu(z), lambda g, z, a: _tf_compat.elu_grad(g, a),
    ),
    Activation(
        "selu",
        lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
        lambda z: tf.nn.selu(z), lambda g, z, a: _tf_compat.selu_grad(g, a),
    ),
    Activation(
        "softplus", lambda z: np.logaddexp(0.0, z), lambda z: tf.nn.softplus(z),
        lambda g, z, a: _tf_compat.softplus_grad(g, z),
    ),
    Activation("swish", lambda z: z * _sigmoid(z), lambda z: tf.nn.silu(z), _swish_grad),
    Activation("linear", lambda z: z, lambda z: tf.identity(z), lambda g, z, a: g),
)  # fmt: skip


def _huber_np(y, p, delta=1.0):
    err = np.abs(y - p)
    quadratic = np.minimum(err, delta)
    return np.mean(0.5 * quadratic**2 + delta * (err - quadratic), axis=-1)


def _huber_tf(y, p, delta=1.0):
    # Keras's Huber loss with its default delta.
    err = tf.abs(y - p)
    quadratic = tf.minimum(err, delta)
    return tf.reduce_mean(0.5 * quadratic**2 + delta * (err - quadratic), axis=-1)


#: Losses, by their Keras names.
LOSSES = _by_name(
    Loss(
        "mae", lambda y, p: np.mean(np.abs(y - p), axis=-1),
        lambda y, p: tf.reduce_mean(tf.abs(y - p), axis=-1), lambda error: tf.sign(error),
    ),
    Loss(
        "mse", lambda y, p: np.mean(np.square(y - p), axis=-1),
        lambda y, p: tf.reduce_mean(tf.square(y - p), axis=-1), lambda error: 2.0 * error,
    ),
    Loss("huber", _huber_np, _huber_tf, lambda error: tf.clip_by_value(error, -1.0, 1.0)),
)  # fmt: skip

_ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)

#: Optimizers, by their Keras names.
OPTIMIZERS = _by_name(
    Optimizer("adam", "Adam", 2, lambda *a: _updates.adam(*a), _ADAM),
    Optimizer("adamw", "AdamW", 2, lambda *a: _updates.adamw(*a), {**_ADAM, "weight_decay": 0.004}),
    Optimizer("sgd", "SGD", 0, lambda *a: _updates.sgd(*a), dict(momentum=0.0)),
    Optimizer("rmsprop", "RMSprop", 2, lambda *a: _updates.rmsprop(*a),
              dict(rho=0.9, momentum=0.0, epsilon=1e-7)),
)  # fmt: skip


def fill_choices(doc):
    """A docstring with ``: ACTIVATIONS,`` (and LOSSES, OPTIMIZERS) replaced by the names."""
    for placeholder, table in (("ACTIVATIONS", ACTIVATIONS), ("LOSSES", LOSSES),
                               ("OPTIMIZERS", OPTIMIZERS)):  # fmt: skip
        names = "{" + ", ".join(f'"{name}"' for name in table) + "}"
        doc = doc.replace(f" : {placeholder},", f" : {names},")
    return doc
