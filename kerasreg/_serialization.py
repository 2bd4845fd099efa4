"""How a DenseRegressor's state travels: pickle, joblib and copy whole; skops as plain data."""

import copyreg
import warnings

import numpy as np
import pandas as pd

from ._fitted import FittedNetwork


class StateMixin:
    """Pickling for DenseRegressor: the Keras model left out, a plain-data ``__getstate__``."""

    def _state(self):
        state = dict(super().__getstate__())
        # The Keras model is rebuilt from the weights on demand.
        state.pop("_model", None)
        return state

    def __reduce_ex__(self, protocol):
        # pickle, joblib and copy: the whole state, Keras callbacks included.
        return copyreg.__newobj__, (type(self),), self._state()

    def __getstate__(self):
        """The state as plain data, for serializers that read it directly.

        skops persists an estimator from its ``__getstate__`` and refuses
        types it does not know: ``history_`` is given as NumPy arrays (a
        DataFrame is not plain data) and the Keras ``callbacks`` as None,
        with a warning, as :meth:`save` does. pickle, joblib and ``copy`` go
        through ``__reduce_ex__`` and keep everything.
        """
        state = self._state()
        if isinstance(state.get("_fitted"), FittedNetwork):
            # The scalers are x_scaler_ and y_scaler_ already.
            state["_fitted"] = state["_fitted"].plain_state()
        history = state.get("history_")
        if isinstance(history, pd.DataFrame):
            state["history_"] = {
                "epoch": history.index.to_numpy(np.int64),
                **{column: history[column].to_numpy(np.float64) for column in history},
            }
        if state.get("callbacks"):
            warnings.warn(
                f"callbacks={state['callbacks']!r} are Keras objects, not plain data: "
                "saved as callbacks=None. Set them again after loading.",
                UserWarning,
                stacklevel=2,
            )
            state["callbacks"] = None
        return state

    def __setstate__(self, state):
        history = state.get("history_")
        if isinstance(history, dict):  # from __getstate__
            n = len(history["epoch"])
            epochs = pd.RangeIndex(1, n + 1, name="epoch")
            if not np.array_equal(history["epoch"], epochs):
                epochs = pd.Index(history["epoch"], name="epoch")
            columns = {c: history[c] for c in ("loss", "val_loss")}
            state = {**state, "history_": pd.DataFrame(columns, index=epochs)}
        if "_spec" in state and "_fitted" not in state:  # a pickle of kerasreg 0.1.0
            state = dict(state)
            state["_fitted"] = {
                "spec": state.pop("_spec"), "weights": state.pop("_weights"),
                "y_ndim": state.pop("_y_ndim"),
            }  # fmt: skip
        fitted = state.get("_fitted")
        if isinstance(fitted, dict):  # from __getstate__, or migrated above
            scalers = {"x_scaler": state["x_scaler_"], "y_scaler": state["y_scaler_"]}
            fitted = FittedNetwork(**fitted, **scalers)
            state = {**state, "_fitted": fitted}
        super().__setstate__(state)
