"""A fitted network: its architecture, weights and scalers, and what they compute.

:class:`FittedNetwork` is what a fit produces and what ``predict``,
``model_``, model files and the per-epoch callbacks share: everything needed
to predict, and nothing of the estimator's parameters. It needs NumPy only.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from ._network import NetworkSpec, build_model, forward
from ._scaling import scale, unscale


@dataclass(frozen=True, eq=False)
class FittedNetwork:
    """A trained network with the scalers around it.

    Attributes
    ----------
    spec : NetworkSpec
    weights : list of ndarray of float64
        In ``keras.Model.get_weights()`` order.
    x_scaler, y_scaler : MinMaxScaler or None
        The input and target scalers (None: not scaled).
    y_ndim : int
        1 when fitted on a 1-D y (predictions are then 1-D), else 2.
    """

    spec: NetworkSpec
    weights: list
    x_scaler: MinMaxScaler | None
    y_scaler: MinMaxScaler | None
    y_ndim: int

    @classmethod
    def from_training(cls, spec, weights, x_scaler, y_scaler, y_ndim):
        """The fitted network for the engine's float32 weights."""
        return cls(spec, [w.astype(np.float64) for w in weights], x_scaler, y_scaler, y_ndim)

    def predict(self, X):
        """Predictions for validated X, in the target's units (float64)."""
        y = unscale(self.y_scaler, forward(self.spec, self.weights, scale(self.x_scaler, X)))
        if not np.isfinite(y).all():
            raise ValueError(
                "Predictions overflow float64 in y's units: X lies too far outside the "
                "range of the rows seen in fit, or y's range is near float64's limit."
            )
        return y.ravel() if self.y_ndim == 1 else y

    def keras_model(self):
        """A new Keras model of the network, on scaled inputs and outputs."""
        return build_model(self.spec, [w.astype(np.float32) for w in self.weights])

    def raw_units_weights(self):
        """The weights with the scalers folded into the first and last Dense layers.

        Min-max scaling is affine, ``x_s = x * scale + min``, and so is its
        inverse on the output: a Dense layer's ``x_s @ W + b`` equals
        ``x @ (scale[:, None] * W) + (b + min @ W)``, and the output's
        ``(h @ W + b - min_y) / scale_y`` equals ``h @ (W / scale_y) +
        (b - min_y) / scale_y``. Computed in float64; returned in float64.
        """
        weights = [np.array(w, dtype=np.float64) for w in self.weights]
        first, last = 0, len(weights) - 2  # the first and the output Dense's kernel
        if self.x_scaler is not None:
            kernel, bias = weights[first], weights[first + 1]
            weights[first + 1] = bias + self.x_scaler.min_ @ kernel
            weights[first] = self.x_scaler.scale_[:, None] * kernel
        if self.y_scaler is not None:
            scale_y, min_y = self.y_scaler.scale_, self.y_scaler.min_
            weights[last + 1] = (weights[last + 1] - min_y) / scale_y
            weights[last] = weights[last] / scale_y
        return weights

    def serving_model(self):
        """A new Keras model on raw features, returning the target in its own units."""
        weights = [w.astype(np.float32) for w in self.raw_units_weights()]
        return build_model(self.spec, weights, name="dense_regressor_serving")

    def plain_state(self):
        """Spec, weights and y_ndim as plain data (the scalers are the estimator's attributes)."""
        return {"spec": self.spec, "weights": list(self.weights), "y_ndim": self.y_ndim}
