"""What a fitted DenseRegressor hands out, and takes back: its model file and its Keras model.

:meth:`~DenseRegressor.save` writes the file that :func:`kerasreg.load` reads
(:mod:`kerasreg._model_file`, :mod:`kerasreg._persistence`), which sets the
fitted state back through ``_set_fitted_state``; :meth:`~DenseRegressor.to_keras`
and ``model_`` build Keras models from the fitted network
(:mod:`kerasreg._fitted`). Training sets the same fitted attributes, with
``_fitted_attributes``.
"""

from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted


class ExportMixin:
    """DenseRegressor's fitted state: what makes it predict, its file, its Keras model."""

    @staticmethod
    def _fitted_attributes(fitted):
        """The attributes that make the estimator predict with the fitted network."""
        return {
            "_fitted": fitted,
            "x_scaler_": fitted.x_scaler,
            "y_scaler_": fitted.y_scaler,
            "n_outputs_": fitted.spec.n_outputs,
        }

    def _set_fitted_state(self, fitted, attributes):
        """Become fitted with a FittedNetwork and fitted attributes (a loaded model file's)."""
        self.__dict__.pop("_model", None)
        self.__dict__.update(self._fitted_attributes(fitted), **attributes)

    def save(self, path, *, target_names=None):
        """Save the fitted estimator to one file, without pickle.

        The file (conventionally ``.kr``) is a zip of JSON metadata and ``.npy``
        weights; :func:`kerasreg.load` reads it back without unpickling anything
        and without TensorFlow, and the loaded estimator predicts identically.
        Pickle and joblib work too, but unpickling can run arbitrary code: use
        them for files you trust only.

        Parameters
        ----------
        path : str or path-like
            Where to write; an existing file is replaced atomically.

        target_names : list of str, default=None
            Names of the targets, one per output, kept as metadata (the command
            line names its prediction columns after them).

        Notes
        -----
        A ``RandomState`` instance as ``random_state`` and ``callbacks`` objects
        cannot be stored as JSON: they are saved as None, with a note in the
        file and a ``UserWarning``.

        See Also
        --------
        kerasreg.load : Load a saved estimator.

        Examples
        --------
        >>> import os, tempfile
        >>> from kerasreg import DenseRegressor, load
        >>> from kerasreg.datasets import load_red_wine
        >>> X, y = load_red_wine(return_X_y=True)
        >>> reg = DenseRegressor(width=8, depth=1, epochs=5, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     reg.save(os.path.join(tmp, "wine.kr"))
        ...     loaded = load(os.path.join(tmp, "wine.kr"))
        >>> bool((loaded.predict(X) == reg.predict(X)).all())
        True
        """
        from . import _model_file

        check_is_fitted(self)
        fitted = self._fitted
        if self._network_spec(fitted.spec.n_features, fitted.spec.n_outputs) != fitted.spec:
            raise ValueError(
                "The architecture parameters changed since fit: the fitted network is "
                f"{fitted.spec}, the parameters now describe "
                f"{self._network_spec(fitted.spec.n_features, fitted.spec.n_outputs)}. "
                "Set them back, or refit, before saving."
            )
        if target_names is not None:
            target_names = [str(name) for name in target_names]
            if len(target_names) != self.n_outputs_:
                raise ValueError(
                    f"Expected one target name per output ({self.n_outputs_}). "
                    f"Received: target_names={target_names}"
                )
        _model_file.write(
            path, fitted, params=self.get_params(deep=False),
            feature_names=getattr(self, "feature_names_in_", None), history=self.history_,
            n_iter=self.n_iter_, best_epoch=self.best_epoch_, target_names=target_names,
        )  # fmt: skip

    def to_keras(self):
        """A Keras model that predicts as :meth:`predict` does: raw features in, target out.

        The min-max scaling of the inputs and of the target is affine, so it
        is folded exactly into the first and the output ``Dense`` layer: the
        model is the fitted network with other weights, and needs nothing of
        kerasreg to run. Save it with ``model.save("wine.keras")``, export it
        for TensorFlow Serving with ``model.export(path)``, or convert it.

        Returns
        -------
        model : keras.Sequential
            A new model, in the Keras backend in use; its output has shape
            ``(n_samples, n_outputs)`` (``predict`` returns 1-D for a 1-D y).
            Predictions equal :meth:`predict`'s to float32 precision (the
            model computes in float32, ``predict`` in float64).

        Examples
        --------
        >>> from kerasreg import DenseRegressor
        >>> from kerasreg.datasets import load_red_wine
        >>> X, y = load_red_wine(return_X_y=True)
        >>> reg = DenseRegressor(width=8, depth=1, epochs=5, random_state=0).fit(X, y)
        >>> model = reg.to_keras()
        >>> raw = X[:3].astype("float32")
        >>> bool(abs(model.predict(raw, verbose=0)[:, 0] - reg.predict(X[:3])).max() < 1e-4)
        True
        """
        check_is_fitted(self)
        return self._fitted.serving_model()

    @property
    def model_(self):
        if "_fitted" not in self.__dict__:
            raise NotFittedError(
                "This DenseRegressor instance is not fitted yet. Call 'fit' first."
            )
        if "_model" not in self.__dict__:
            self._model = self._fitted.keras_model()
        return self._model
