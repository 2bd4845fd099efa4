"""DenseRegressor: the Keras regression network as a scikit-learn estimator.

This module holds the scikit-learn contract only: parameters, fit,
partial_fit and predict. Their constraints are in :mod:`kerasreg._params`,
input checks in :mod:`kerasreg._validation`, saving and the Keras model in
:mod:`kerasreg._export`, scaling in :mod:`kerasreg._scaling`, the network in
:mod:`kerasreg._network` (fitted: :mod:`kerasreg._fitted`), training in
:mod:`kerasreg._engine`, which is imported on the first ``fit`` so that
``import kerasreg`` stays light.
"""

import functools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _fork  # noqa: F401 - registers its fork hook before TensorFlow starts
from ._compat import sklearn as sk_compat
from ._compat.sklearn import CallbackSupportMixin, with_callbacks
from ._export import ExportMixin
from ._fitting import fit_network, partial_fit_network, validation_rows, warn_stop
from ._params import ParamsMixin
from ._registry import fill_choices
from ._serialization import StateMixin
from ._validation import training_rows, validate


class DenseRegressor(
    ParamsMixin, ExportMixin, StateMixin, CallbackSupportMixin, RegressorMixin, BaseEstimator
):
    """A stack of Dense ReLU layers trained with Adam on mean absolute error.

    The Keras regression network of the introductory course, as a
    scikit-learn estimator: inputs and target min-max scaled to [0, 1] on the
    training rows, ``depth`` hidden ``Dense`` layers of ``width`` units, a
    linear output, mini-batches of 256, Adam, MAE, and early stopping on a
    validation split (``min_delta=0.001, patience=20``, best weights restored).

    Parameters
    ----------
    width : int, default=512
        Units in each hidden layer.

    depth : int, default=3
        Number of hidden layers. ``depth=0`` is a single linear unit,
        ``y = w·x + b``.

    hidden_layer_sizes : tuple of int, default=None
        Explicit sizes such as ``(64, 32)``; when given it replaces
        ``width`` and ``depth``. ``()`` is a linear unit.

    activation : ACTIVATIONS, default="relu"
        Hidden-layer activation. The output layer is always linear.

    dropout : float, default=0.0
        Dropout rate after each hidden layer (training only).

    batch_norm : bool, default=False
        ``BatchNormalization`` after each hidden layer (after the dropout, as
        in the Keras course).

    optimizer : OPTIMIZERS, default="adam"
        Keras optimizer, with its defaults apart from the learning rate.

    learning_rate : float, default=0.001
        Optimizer step size.

    loss : LOSSES, default="mae"
        Training loss, per row averaged over the outputs.

    alpha : float, default=0.0
        L2 penalty on the kernels (not the biases), with the meaning of
        Keras's ``kernel_regularizer=keras.regularizers.L2(alpha)`` on every
        ``Dense`` layer: each batch's loss gains ``alpha * sum(kernel ** 2)``
        over all kernels, and so do ``history_``'s ``loss`` and
        ``val_loss`` (as Keras's do), which early stopping monitors. In the
        scaled units of the weights when ``scale_inputs``/``scale_target``.

    batch_size : int, default=256
        Rows per mini-batch; the last batch of an epoch may be smaller.

    epochs : int, default=500
        The most epochs to train.

    early_stopping : bool, default=True
        Stop when the validation loss has not improved by more than
        ``min_delta`` for ``patience`` epochs.

    validation_fraction : float, default=0.2
        Share of the training rows held out, drawn at random with
        ``random_state``, when ``early_stopping`` is on and no
        ``X_val`` (or ``validation_data``) is passed to :meth:`fit`. With 0,
        early stopping monitors the training loss.

    patience : int, default=20
        Epochs without improvement before stopping.

    min_delta : float, default=0.001
        Least decrease of the monitored loss that counts as an improvement,
        in the loss's units (of the scaled target when ``scale_target``).

    restore_best_weights : bool, default=True
        With early stopping, end with the weights of the best epoch rather
        than of the last.

    scale_inputs : bool, default=True
        Min-max scale X to [0, 1] with the training rows' min and max.

    scale_target : bool, default=True
        Min-max scale y the same way for training; :meth:`predict` returns
        original units.

    shuffle : bool, default=True
        Shuffle the training rows each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, initial weights, shuffling and dropout.
        An int makes fits reproducible bit for bit.

    verbose : int, default=0
        0 is silent, 1 shows a progress bar per epoch, 2 prints one line per
        epoch with loss and val_loss.

    warm_start : bool, default=False
        Continue training the fitted network (and keep its scalers) on the
        next :meth:`fit`, rather than starting afresh. The optimizer state
        starts afresh.

    callbacks : list of keras.callbacks.Callback, default=None
        Called with a Keras model of the network being trained, which holds
        the current weights at each epoch's end, and whose optimizer's
        ``learning_rate`` is the one trained with: ``on_train_begin``,
        ``on_epoch_begin``, ``on_epoch_end`` with ``loss`` and ``val_loss`` in
        the logs, and ``on_train_end``. Batch-level hooks are not called,
        since an epoch runs as one compiled call. A callback may stop training
        by setting ``model.stop_training = True``; weights it sets (with
        ``model.set_weights``) are trained on from there. With callbacks, the
        engine returns to Python after every epoch; the results are the same
        as without them, bit for bit.

    jit_compile : {"auto", True, False}, default="auto"
        Whether the epochs program is compiled by XLA, as in Keras's
        ``Model.compile``. ``"auto"`` compiles where it pays (many
        mini-batches per epoch, or large layers; see the user guide), but
        never in a process with an address-space limit (``ulimit -v``,
        ``prlimit --as``) below 16 GiB, where XLA's compiler can fail to
        start its threads and abort the process. ``False`` always runs a
        plain TensorFlow graph; ``True`` always compiles.

    Attributes
    ----------
    model_ : keras.Model
        The fitted network, built from the fitted weights on first access.
        It works on scaled inputs and returns scaled outputs; it is a copy:
        changing it does not change :meth:`predict`. For a model that takes
        raw features and returns the target in its own units (to save,
        export or serve), use :meth:`to_keras`.

    history_ : pandas.DataFrame
        ``loss`` and ``val_loss`` per epoch (index ``epoch``, from 1), in the
        loss's units on the scaled target when ``scale_target`` is on (MAE as
        a fraction of the training target's range), weighted by
        ``sample_weight``. ``val_loss`` is NaN without validation data.

    best_epoch_ : int
        The epoch with the best monitored loss in the last :meth:`fit`: the
        last epoch that improved on the best so far by more than
        ``min_delta``. Its weights are the final ones when
        ``early_stopping`` and ``restore_best_weights`` are on.

    n_iter_ : int
        Epochs run in all fits (with ``warm_start``) so far.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when X is a DataFrame with
        string column names.

    n_outputs_ : int
        Number of targets.

    x_scaler_ : sklearn.preprocessing.MinMaxScaler or None
        The input scaler, None when ``scale_inputs=False``.

    y_scaler_ : sklearn.preprocessing.MinMaxScaler or None
        The target scaler, None when ``scale_target=False``.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : scikit-learn's own multi-layer
        perceptron, with squared loss and early stopping on R².

    Notes
    -----
    Epochs run inside one compiled TensorFlow program (XLA-compiled where an
    epoch has many mini-batches or the layers are large, a plain graph
    otherwise), early stopping included: without ``callbacks`` or
    ``verbose``, one call runs many epochs; with them, one epoch per call.
    Compiled programs are reused across fits of the same network structure
    (depth, activation, dropout, batch normalisation), optimizer and loss,
    whatever their widths and ``batch_size`` (see the user guide). TensorFlow
    is imported on the first ``fit``.

    Rows with zero ``sample_weight`` are removed before anything else, so
    they influence neither the scalers, the split nor the training.

    Save with :meth:`save` and load with :func:`kerasreg.load` (no pickle);
    pickle and joblib work too, for trusted files only.

    Examples
    --------
    >>> from kerasreg import DenseRegressor
    >>> from kerasreg.datasets import load_red_wine
    >>> X, y = load_red_wine(return_X_y=True)
    >>> reg = DenseRegressor(width=16, depth=1, epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> list(reg.history_.columns)
    ['loss', 'val_loss']
    """

    def __init__(
        self,
        width=512,
        *,
        depth=3,
        hidden_layer_sizes=None,
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=0.001,
        loss="mae",
        alpha=0.0,
        batch_size=256,
        epochs=500,
        early_stopping=True,
        validation_fraction=0.2,
        patience=20,
        min_delta=0.001,
        restore_best_weights=True,
        scale_inputs=True,
        scale_target=True,
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
        jit_compile="auto",
    ):
        self.width = width
        self.depth = depth
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.alpha = alpha
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.scale_inputs = scale_inputs
        self.scale_target = scale_target
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.jit_compile = jit_compile

    @with_callbacks
    def fit(
        self, X, y, sample_weight=None, validation_data=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Train the network on X and y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training inputs.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; each batch's loss is the weighted mean
            of its rows' losses. Rows of weight 0 are dropped.

        validation_data : tuple, default=None
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``, Keras's
            spelling of the three arguments below; give one or the other.

        X_val : array-like of shape (n_val_samples, n_features), default=None
            Rows to compute ``val_loss`` on every epoch (and so to early-stop
            on), replacing the internal split; with ``y_val``. scikit-learn's
            spelling, as in ``HistGradientBoostingRegressor``. In a
            :class:`~sklearn.pipeline.Pipeline`, X_val reaches this step as
            given, without the earlier steps' transformations, unless the
            pipeline is built with ``transform_input=["X_val"]`` and metadata
            routing is on (``sklearn.set_config(enable_metadata_routing=True)``
            and ``set_fit_request(X_val=True, y_val=True)``; see the user
            guide).

        y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), \
default=None
            Targets of ``X_val``.

        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation rows in ``val_loss``.

        Returns
        -------
        self : DenseRegressor
            The fitted estimator.
        """
        validation_data = validation_rows(validation_data, X_val, y_val, sample_weight_val)
        return self._undone_on_failure(self._fit, X, y, sample_weight, validation_data)

    def _undone_on_failure(self, run, *args):
        """``run(*args)``; if it raises (Ctrl-C too), the estimator is left as it was.

        All but scikit-learn's callback bookkeeping, which it tears down after fit.
        """
        saved = dict(self.__dict__)
        try:
            return run(*args)
        except BaseException:
            live = {k: v for k, v in self.__dict__.items() if k in sk_compat.CALLBACK_STATE}
            self.__dict__.clear()
            self.__dict__.update(saved, **live)
            raise

    def _fit(self, X, y, sample_weight, validation_data):
        self._check_params()
        warm = self.warm_start and hasattr(self, "_fitted")
        X, y, sw, y_ndim = training_rows(self, X, y, sample_weight, reset=not warm)
        self.__dict__.pop("_partial", None)  # partial_fit's optimizer state, if any
        fitted, result, context = fit_network(self, X, y, sw, validation_data, y_ndim, warm)
        done_before = self._record_run(fitted, result, continuing=warm)
        self.best_epoch_ = done_before + result.best_epoch
        warn_stop(self, result.stop_reason)
        sk_compat.end_fit(context, self, X, y)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on X and y, going on from the previous call.

        MLPRegressor's semantics: each call is one pass over the given rows
        in mini-batches of ``batch_size`` (shuffled with ``shuffle``), the
        optimizer's state carried from call to call, with no validation rows
        and no early stopping (``early_stopping``, ``validation_fraction``,
        ``patience`` and ``min_delta`` do not apply; keep the best epoch
        yourself, or use :meth:`fit`). The first call (on an unfitted
        estimator) fits the scalers on its rows and keeps them: later rows
        outside that range are scaled beyond [0, 1], which the network takes
        as it is; see the user guide. After :meth:`fit`, ``partial_fit`` goes
        on from the fitted weights and scalers with a fresh optimizer. Calling
        ``partial_fit`` k times on the same rows trains exactly as
        ``fit(X, y)`` with ``epochs=k, early_stopping=False`` does, bit for
        bit with an int ``random_state``. Ctrl-C during a call raises
        KeyboardInterrupt and leaves the estimator as it was before the call.
        Changing ``optimizer`` between calls starts the new one afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training inputs; the same features at every call.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; the same number of outputs at every call.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, as in :meth:`fit`.

        Returns
        -------
        self : DenseRegressor
            The estimator, trained one more epoch.
        """
        return self._undone_on_failure(self._partial_fit, X, y, sample_weight)

    def _partial_fit(self, X, y, sample_weight):
        first = "_fitted" not in self.__dict__
        self._check_params()
        X, y, sw, y_ndim = training_rows(self, X, y, sample_weight, reset=first)
        if not first and y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"Expected y with {self.n_outputs_} output(s), as in the earlier calls. "
                f"Received: y with {y.shape[1]}"
            )
        fitted, result, state = partial_fit_network(self, X, y, sw, y_ndim, first)
        self._record_run(fitted, result, continuing=not first)
        self.best_epoch_ = self.n_iter_  # no early stopping: the last epoch's weights
        self._partial = state
        if result.stop_reason == "interrupted":
            # A loop of partial_fit calls must stop at Ctrl-C: the call is
            # undone (partial_fit restores the estimator) and may be repeated.
            raise KeyboardInterrupt
        if result.stop_reason == "diverged":  # one epoch: nothing else to warn about
            warn_stop(self, result.stop_reason)
        return self

    def _record_run(self, fitted, result, continuing):
        """Set the fitted network, history_ and n_iter_ after a run; returns the epochs before.

        ``continuing``: the run went on from the fitted state (warm start,
        partial_fit), so its epochs follow the earlier ones in history_.
        """
        done_before = self.n_iter_ if continuing else 0
        epochs = pd.RangeIndex(done_before + 1, done_before + len(result.history) + 1, name="epoch")
        rows = np.array(result.history, dtype=np.float64).reshape(-1, 2)
        history = pd.DataFrame(rows, columns=_history_columns(), index=epochs)
        if continuing:
            history = pd.concat([self.history_, history])
        self.__dict__.pop("_model", None)
        self.__dict__.update(self._fitted_attributes(fitted))
        self.history_ = history
        self.n_iter_ = done_before + len(result.history)
        return done_before

    def predict(self, X):
        """Predict targets for X, in the original units of y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64; 1-D when the model was fitted on a 1-D y.
        """
        check_is_fitted(self)
        return self._fitted.predict(validate(self, X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


@functools.cache
def _history_columns():
    # Built once: pandas takes ~0.3 ms to build an Index of strings (Arrow
    # backed), a few percent of a small fit. An Index is immutable: shared.
    return pd.Index(["loss", "val_loss"])


# The choices in the docstring are the registry's.
DenseRegressor.__doc__ = fill_choices(DenseRegressor.__doc__)
