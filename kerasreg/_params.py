"""DenseRegressor's parameters: their constraints, and the network they describe.

``_parameter_constraints`` is scikit-learn's declaration of the valid values
(checked by :func:`kerasreg._compat.sklearn.validate_params` at fit, and when
a model file is loaded); the choices come from :mod:`kerasreg._registry`. The
defaults and descriptions are the class's own (``__init__``, its docstring).
"""

from numbers import Integral, Real

import numpy as np

from ._compat import sklearn as sk_compat
from ._compat.sklearn import Interval, InvalidParameterError, StrOptions
from ._network import NetworkSpec
from ._registry import ACTIVATIONS, LOSSES, OPTIMIZERS
from ._validation import is_bool


class ParamsMixin:
    """DenseRegressor's parameter checks and the architecture its parameters describe."""

    _parameter_constraints = {
        "width": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "hidden_layer_sizes": [None, "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "loss": [StrOptions(set(LOSSES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
        "restore_best_weights": ["boolean"],
        "scale_inputs": ["boolean"],
        "scale_target": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": [Interval(Integral, 0, 2, closed="both")],
        "warm_start": ["boolean"],
        "callbacks": [None, list],
        "jit_compile": [StrOptions({"auto"}), "boolean"],
    }

    def _check_params(self):
        sk_compat.validate_params(self, is_bool)
        self._layer_sizes()

    def _layer_sizes(self):
        if self.hidden_layer_sizes is None:
            return (self.width,) * self.depth
        sizes = tuple(np.ravel(self.hidden_layer_sizes).tolist())
        if not all(isinstance(u, Integral) and not is_bool(u) and u >= 1 for u in sizes):
            raise InvalidParameterError(
                "The 'hidden_layer_sizes' parameter of DenseRegressor must be None or a "
                f"tuple of positive ints. Got {self.hidden_layer_sizes!r} instead."
            )
        return sizes

    def _network_spec(self, n_features, n_outputs):
        """The architecture the parameters describe, for these numbers of features and outputs."""
        return NetworkSpec(
            n_features=n_features,
            n_outputs=n_outputs,
            hidden_layer_sizes=self._layer_sizes(),
            activation=self.activation,
            dropout=float(self.dropout),
            batch_norm=bool(self.batch_norm),
        )
