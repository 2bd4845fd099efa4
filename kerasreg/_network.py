"""The network: its architecture, its initial weights, Keras model and forward pass.

A network is described by a :class:`NetworkSpec`, a small hashable value. From
it this module builds the Keras model (for training and for users), draws
initial weights from a NumPy generator, and computes predictions with NumPy.

Predictions use NumPy rather than Keras because ``model.predict`` costs tens
of milliseconds per call, and a NumPy forward pass is thread-safe and needs no
TensorFlow in the process.

Weights are lists of arrays in the order of ``keras.Model.get_weights()``:
for each hidden layer ``kernel, bias`` then, with batch normalisation,
``gamma, beta, moving_mean, moving_variance``; then the output ``kernel, bias``.
"""

from dataclasses import dataclass

import numpy as np

from ._registry import ACTIVATIONS

# Keras's BatchNormalization default; the NumPy forward pass must match it.
BATCH_NORM_EPSILON = 1e-3


@dataclass(frozen=True)
class NetworkSpec:
    """The architecture of a dense regression network.

    Two networks with equal specs have the same variables, so a compiled
    training step built for one can train the other.
    """

    n_features: int
    n_outputs: int
    hidden_layer_sizes: tuple
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False

    def weight_shapes(self):
        """Shapes of the weight arrays, in ``get_weights()`` order."""
        shapes = []
        fan_in = self.n_features
        for units in self.hidden_layer_sizes:
            shapes += [(fan_in, units), (units,)]
            if self.batch_norm:
                shapes += [(units,)] * 4
            fan_in = units
        return shapes + [(fan_in, self.n_outputs), (self.n_outputs,)]


def initial_weights(spec, rng):
    """Draw initial weights as Keras's defaults do, from a NumPy generator.

    Kernels are Glorot-uniform, biases and batch-norm shifts zero, scales and
    moving variances one. Drawing them here, rather than through Keras's
    initialisers, keeps TensorFlow's and Python's global random state untouched.

    Parameters
    ----------
    spec : NetworkSpec
    rng : numpy.random.RandomState

    Returns
    -------
    list of ndarray of float32
    """

    def glorot(fan_in, units):
        limit = np.sqrt(6.0 / (fan_in + units))
        return rng.uniform(-limit, limit, size=(fan_in, units)).astype(np.float32)

    weights = []
    fan_in = spec.n_features
    for units in spec.hidden_layer_sizes:
        weights += [glorot(fan_in, units), np.zeros(units, np.float32)]
        if spec.batch_norm:
            ones, zeros = np.ones(units, np.float32), np.zeros(units, np.float32)
            weights += [ones, zeros, zeros.copy(), ones.copy()]
        fan_in = units
    weights += [glorot(fan_in, spec.n_outputs), np.zeros(spec.n_outputs, np.float32)]
    return weights


def build_model(spec, weights=None, dropout_seeds=None, name="dense_regressor"):
    """Build the Keras model for ``spec``.

    The layers follow the Keras course: ``Dense(activation)``, then
    ``Dropout`` and ``BatchNormalization`` when asked for, for each hidden
    layer, and a linear ``Dense(n_outputs)`` on top.

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of ndarray, default=None
        Weights to load; zeros when None.
    dropout_seeds : sequence of int, default=None
        One seed per dropout layer. Given explicitly so that Keras never draws
        one from Python's global random state.
    name : str, default="dense_regressor"
        The model's name.

    Returns
    -------
    keras.Sequential
    """
    from ._compat.startup import import_quietly

    keras = import_quietly("keras")
    layers = keras.layers

    # Fixed names (Keras would number them per process: dense_17, ...) keep
    # every model of an architecture alike, down to TensorFlow's op caches.
    stack = [keras.Input((spec.n_features,), name="features")]
    for i, units in enumerate(spec.hidden_layer_sizes, 1):
        stack.append(
            layers.Dense(
                units, activation=spec.activation, kernel_initializer="zeros", name=f"hidden_{i}"
            )
        )
        if spec.dropout > 0:
            seed = 0 if dropout_seeds is None else int(dropout_seeds[i - 1])
            stack.append(layers.Dropout(spec.dropout, seed=seed, name=f"dropout_{i}"))
        if spec.batch_norm:
            stack.append(
                layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, name=f"batch_norm_{i}")
            )
    stack.append(layers.Dense(spec.n_outputs, kernel_initializer="zeros", name="output"))
    model = keras.Sequential(stack, name=name)
    if weights is not None:
        model.set_weights(weights)
    return model


# predict's largest temporary (a chunk of rows times the widest layer, float64).
_FORWARD_BUDGET_BYTES = 64 << 20


def forward(spec, weights, X, chunk_rows=4096):
    """Predict with NumPy in float64: the network in inference mode.

    Rows are processed in chunks so that memory stays bounded for any input
    size and any width: at most ``chunk_rows`` rows, and fewer where a layer
    is so wide (above 2,048 units) that a chunk's activations would exceed
    64 MiB. In float64, a row's result depends on its chunk only in the last
    bits (the matrix products' summation order).

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of ndarray of float64
        In ``get_weights()`` order.
    X : ndarray of shape (n_samples, n_features)
    chunk_rows : int, default=4096

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float64
    """
    act = ACTIVATIONS[spec.activation].numpy
    widest = max((spec.n_features, spec.n_outputs, *spec.hidden_layer_sizes))
    chunk_rows = max(1, min(chunk_rows, _FORWARD_BUDGET_BYTES // (8 * widest)))
    out = np.empty((X.shape[0], spec.n_outputs), dtype=np.float64)
    for start in range(0, X.shape[0], chunk_rows):
        h = np.asarray(X[start : start + chunk_rows], dtype=np.float64)
        i = 0
        for _ in spec.hidden_layer_sizes:
            h = act(h @ weights[i] + weights[i + 1])
            i += 2
            if spec.batch_norm:
                gamma, beta, mean, var = weights[i : i + 4]
                h = (h - mean) * (gamma / np.sqrt(var + BATCH_NORM_EPSILON)) + beta
                i += 4
        out[start : start + chunk_rows] = h @ weights[i] + weights[i + 1]
    return out
