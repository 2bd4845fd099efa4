"""DenseRegressor: the Keras regression network as a scikit-learn estimator.

This module holds the scikit-learn contract only: parameters, input
validation, scaling, the validation split and fitted attributes. The network
lives in :mod:`kerasreg._network`, training in :mod:`kerasreg._engine`, which
is imported on the first ``fit`` so that ``import kerasreg`` stays light.
"""

import copyreg
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import check_random_state

# scikit-learn has no public home for its parameter constraints yet; these are
# what its own estimators and `BaseEstimator._validate_params` use.
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _fork  # noqa: F401 - registers its fork hook before TensorFlow starts
from ._network import ACTIVATIONS, NetworkSpec, forward, initial_weights

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9 has no callback API; verbose still works.

    class CallbackSupportMixin:
        pass

    def with_callbacks(method):
        return method


_NON_NUMERIC_HINT = (
    "DenseRegressor needs numeric input: encode non-numeric columns first, e.g. "
    "with sklearn.compose.ColumnTransformer and OneHotEncoder in a Pipeline."
)


def _check_numeric_frame(X, name):
    """Name a DataFrame's non-numeric columns before NumPy's error does not."""
    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0:
            raise ValueError(
                f"Expected {name} with at least one feature column. "
                f"Received: a DataFrame of shape {X.shape}"
            )
        bad = [str(c) for c, t in X.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
        if bad:
            raise ValueError(f"{name} has non-numeric columns: {bad}. {_NON_NUMERIC_HINT}")


def _check_not_time(a, name):
    """Refuse dates and durations, which NumPy would pass on as integer time steps."""
    if isinstance(a, pd.DataFrame):
        dtypes = a.dtypes
    elif isinstance(a, (list, tuple)):
        dtypes = [np.asarray(a).dtype]
    else:
        dtypes = [getattr(a, "dtype", None)]
    for dtype in dtypes:
        if getattr(dtype, "kind", None) in ("M", "m"):
            raise ValueError(
                f"{name} has dtype {dtype}: dates and durations are not numbers the network "
                "can scale. Convert them to numeric features first, e.g. days since a "
                "reference date, or the year, month and weekday as columns."
            )


def _validate(estimator, X, y="no_validation", *, reset, name="X"):
    """`validate_data` with a pointer to the fix for non-numeric input."""
    _check_not_time(X, name)
    _check_numeric_frame(X, name)
    kwargs = dict(reset=reset, dtype=[np.float64, np.float32])
    if not (isinstance(y, str) and y == "no_validation"):
        _check_not_time(y, "y" if name == "X" else "y_val")
        kwargs.update(multi_output=True, y_numeric=True)
    try:
        return validate_data(estimator, X, y, **kwargs)
    except (ValueError, TypeError) as e:
        msg = str(e)
        if "could not convert" in msg or "argument must be" in msg:
            raise type(e)(f"{msg}. {_NON_NUMERIC_HINT}") from e
        raise


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


# What scikit-learn's callback API keeps on the estimator during fit.
_CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def _scale(scaler, a, dtype=np.float64, chunk_rows=65536):
    """MinMaxScaler.transform's own arithmetic, as a new array of ``dtype``.

    Without the scaler's input validation, which would cost more than a
    one-row prediction. Computed in float64 a chunk of rows at a time and
    written into the result, so that values beyond float32's range are scaled
    before the cast, with no float64 temporary the size of the data.
    """
    if scaler is None:
        return np.array(a, dtype=dtype, order="C")
    out = np.empty(a.shape, dtype=dtype)
    for start in range(0, len(a), chunk_rows):
        rows = slice(start, start + chunk_rows)
        out[rows] = a[rows] * scaler.scale_ + scaler.min_
    return out


def _check_finite_for_training(name, a):
    # Finite float64 can still be beyond float32, in which the network trains.
    if not np.isfinite(a).all():
        raise ValueError(
            f"{name} holds values beyond float32's range (about 3.4e38) after scaling, "
            "which the network cannot train on: values far outside the training rows' "
            "range, or scale_inputs/scale_target turned off. Rescale the data."
        )


def _fit_scaler(a, name):
    """A MinMaxScaler fitted on a, which scales every column of non-zero range to [0, 1].

    MinMaxScaler takes a range below 10 * eps (about 2.2e-15, absolute) for a
    constant column and leaves it unscaled, which would drop the signal of
    columns measured in small units (m², kg). Here only an exactly constant
    column keeps the scale 1 (it carries no signal), so that multiplying X or
    y by any factor changes the predictions by that factor only. Every other
    column gets MinMaxScaler's own values, bit for bit.
    """
    # a is validated and finite already: the scaler need not check it again
    # (a few ms of a small fit).
    with config_context(assume_finite=True, skip_parameter_validation=True):
        scaler = MinMaxScaler().fit(a)
    nonzero = scaler.data_range_ > 0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        scaler.scale_ = np.where(nonzero, 1.0 / np.where(nonzero, scaler.data_range_, 1.0), 1.0)
        scaler.min_ = 0.0 - scaler.data_min_ * scaler.scale_
    # Predictions may leave the training range; leave them headroom.
    limit = np.finfo(np.float64).max / 1e4
    if not (scaler.data_range_ < limit).all():
        raise ValueError(
            f"The range of {name} (max - min) is too close to float64's limit "
            f"(above {limit:.1e}) to predict in its units. Rescale {name}."
        )
    if not np.isfinite(scaler.scale_).all():
        tiny = scaler.data_range_[~np.isfinite(scaler.scale_)].min()
        raise ValueError(
            f"The range of {name} (max - min) is too small to scale to [0, 1] in float64 "
            f"({tiny:.1e}). Rescale {name}, e.g. to other units."
        )
    return scaler


def _unscale(scaler, a):
    return a if scaler is None else (a - scaler.min_) / scaler.scale_


def _check_sample_weight(sample_weight, n_samples):
    sw = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight")
    if sw.shape != (n_samples,):
        raise ValueError(
            f"Expected sample_weight of shape ({n_samples},), one weight per row of X. "
            f"Received: sample_weight.shape={sw.shape}"
        )
    if (sw < 0).any():
        raise ValueError("Expected non-negative sample_weight. Received negative weights.")
    if not sw.any():
        raise ValueError("Expected at least one positive sample_weight. Received all zeros.")
    return sw


class DenseRegressor(CallbackSupportMixin, RegressorMixin, BaseEstimator):
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

    activation : {"relu", "tanh", "sigmoid", "elu", "selu", "softplus", \
"swish", "linear"}, default="relu"
        Hidden-layer activation. The output layer is always linear.

    dropout : float, default=0.0
        Dropout rate after each hidden layer (training only).

    batch_norm : bool, default=False
        ``BatchNormalization`` after each hidden layer (after the dropout, as
        in the Keras course).

    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        Keras optimizer, with its defaults apart from the learning rate.

    learning_rate : float, default=0.001
        Optimizer step size.

    loss : {"mae", "mse", "huber"}, default="mae"
        Training loss, per row averaged over the outputs.

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
        changing it does not change :meth:`predict`.

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

    _parameter_constraints = {
        "width": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "hidden_layer_sizes": [None, "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "optimizer": [StrOptions({"adam", "adamw", "sgd", "rmsprop"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "loss": [StrOptions({"mae", "mse", "huber"})],
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

    def _validate_params(self):
        # A bool is an int to Python, and so to scikit-learn's numeric
        # constraints; verbose=True is an answer (as in scikit-learn), a
        # width of True is not.
        for name, (constraint, *_) in self._parameter_constraints.items():
            value = getattr(self, name)
            if isinstance(constraint, Interval) and name != "verbose" and _is_bool(value):
                raise InvalidParameterError(
                    f"The '{name}' parameter of DenseRegressor must be {constraint}, not a "
                    f"bool. Got {value!r} instead."
                )
        super()._validate_params()

    def _layer_sizes(self):
        if self.hidden_layer_sizes is None:
            return (self.width,) * self.depth
        sizes = tuple(np.ravel(self.hidden_layer_sizes).tolist())
        if not all(isinstance(u, Integral) and not _is_bool(u) and u >= 1 for u in sizes):
            raise InvalidParameterError(
                "The 'hidden_layer_sizes' parameter of DenseRegressor must be None or a "
                f"tuple of positive ints. Got {self.hidden_layer_sizes!r} instead."
            )
        return sizes

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
        if validation_data is not None and not (X_val is None and y_val is None):
            raise ValueError(
                "Expected the validation rows once: X_val and y_val, or "
                "validation_data=(X_val, y_val). Received both."
            )
        if validation_data is None and (X_val is not None or y_val is not None):
            if X_val is None or y_val is None:
                given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
                raise ValueError(f"{given} is provided, but {missing} was not provided.")
            validation_data = (X_val, y_val, sample_weight_val)
        elif sample_weight_val is not None:
            raise ValueError(
                "sample_weight_val is provided, but X_val and y_val were not provided."
                if validation_data is None
                else "sample_weight_val goes with X_val and y_val; with validation_data, "
                "give the weights as its third element: (X_val, y_val, sample_weight_val)."
            )
        # A failed fit must leave a previously fitted estimator as it was
        # (but for scikit-learn's callback bookkeeping, torn down after fit).
        saved = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, validation_data)
        except BaseException:
            live = {k: v for k, v in self.__dict__.items() if k in _CALLBACK_STATE}
            self.__dict__.clear()
            self.__dict__.update(saved, **live)
            raise

    def _fit(self, X, y, sample_weight, validation_data):
        self._validate_params()
        sizes = self._layer_sizes()
        warm = self.warm_start and hasattr(self, "_weights")
        X, y = _validate(self, X, y, reset=not warm)
        y_ndim = y.ndim
        try:  # scikit-learn leaves y of numeric strings as strings
            y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Expected numeric y. Received: {e}") from e
        if not np.isfinite(y).all():  # scikit-learn checks object y for NaN only
            raise ValueError("Input y contains infinity or a value too large for float64.")
        sw = (
            np.ones(len(X))
            if sample_weight is None
            else _check_sample_weight(sample_weight, len(X))
        )
        if sample_weight is not None:
            keep = sw > 0
            X, y, sw = X[keep], y[keep], sw[keep]

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        local_rng = np.random.RandomState(seed)

        if validation_data is not None:
            val = self._check_validation_data(validation_data, y.shape[1])
            val_names = ("X_val", "y_val")
            train = (X, y, sw)
        elif self.early_stopping and self.validation_fraction > 0:
            train, val = self._split(X, y, sw, local_rng)
            val_names = ("X", "y")
        else:
            train, val = (X, y, sw), None

        spec = NetworkSpec(
            n_features=X.shape[1],
            n_outputs=y.shape[1],
            hidden_layer_sizes=sizes,
            activation=self.activation,
            dropout=float(self.dropout),
            batch_norm=bool(self.batch_norm),
        )
        if warm:
            if spec != self._spec:
                raise ValueError(
                    "warm_start=True continues the fitted network, but the architecture "
                    f"changed from {self._spec} to {spec}. Set warm_start=False to start afresh."
                )
            x_scaler, y_scaler, weights = self.x_scaler_, self.y_scaler_, self._weights
        else:
            x_scaler = _fit_scaler(train[0], "X") if self.scale_inputs else None
            y_scaler = _fit_scaler(train[1], "y") if self.scale_target else None
            weights = initial_weights(spec, local_rng)

        def prepare(x, y, w, names):
            f32 = np.float32
            x, y = _scale(x_scaler, x, f32), _scale(y_scaler, y, f32)
            for name, a in zip(names, (x, y)):
                _check_finite_for_training(name, a)
            # Weighted means ignore a common factor; dividing by the largest
            # weight keeps any finite weights within float32.
            return x, y, (w / w.max()).astype(f32)

        callbacks = list(self.callbacks or [])
        from ._progress import EpochProgress, EpochTasks

        if self.verbose:
            callbacks.append(EpochProgress(self.epochs, self.verbose))
        context = None
        if hasattr(self, "_init_callback_context"):
            context = self._init_callback_context(max_subtasks=self.epochs)
            context.call_on_fit_task_begin(estimator=self, X=X, y=y)
            if getattr(self, "_skl_callbacks", None):

                def fitted_state(weights):
                    return self._fitted_state(spec, weights, x_scaler, y_scaler, y_ndim)

                callbacks.append(EpochTasks(context, self, X, y, fitted_state))

        from . import _engine

        try:
            result = _engine.train(
                spec,
                weights,
                prepare(*train, ("X", "y")),
                None if val is None else prepare(*val, val_names),
                optimizer=self.optimizer,
                learning_rate=float(self.learning_rate),
                loss=self.loss,
                batch_size=int(self.batch_size),
                epochs=int(self.epochs),
                shuffle=self.shuffle,
                seed=seed,
                early_stopping=self.early_stopping,
                patience=int(self.patience),
                min_delta=float(self.min_delta),
                restore_best_weights=self.restore_best_weights,
                callbacks=callbacks,
                jit_compile=self.jit_compile,
            )
        except _engine.DivergedError as e:
            raise ValueError(f"DenseRegressor diverged. {e}") from e

        history = pd.DataFrame(result.history, columns=["loss", "val_loss"])
        done_before = self.n_iter_ if warm else 0
        history.index = pd.RangeIndex(done_before + 1, done_before + len(history) + 1, name="epoch")
        if warm:
            history = pd.concat([self.history_, history])

        self.__dict__.pop("_model", None)
        self.__dict__.update(self._fitted_state(spec, result.weights, x_scaler, y_scaler, y_ndim))
        self.history_ = history
        self.n_iter_ = done_before + len(result.history)
        self.best_epoch_ = done_before + result.best_epoch
        self._warn(result.stop_reason)
        if context is not None:
            context.call_on_fit_task_end(estimator=self, X=X, y=y, reconstruction_attributes=dict)
        return self

    @staticmethod
    def _fitted_state(spec, weights, x_scaler, y_scaler, y_ndim):
        """The attributes predict needs, for the given network weights."""
        return {
            "_spec": spec,
            "_weights": [w.astype(np.float64) for w in weights],
            "_y_ndim": y_ndim,
            "x_scaler_": x_scaler,
            "y_scaler_": y_scaler,
            "n_outputs_": spec.n_outputs,
        }

    def _warn(self, stop_reason):
        if stop_reason == "max_epochs" and self.early_stopping:
            warnings.warn(
                f"DenseRegressor reached epochs={self.epochs} before early stopping "
                f"triggered: the monitored loss improved by more than min_delta within the "
                f"last patience={self.patience} epochs. Raise epochs to train longer.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif stop_reason == "diverged":
            warnings.warn(
                f"The loss became NaN or infinite at epoch {self.n_iter_ + 1}; training "
                f"stopped and the weights of epoch {self.best_epoch_} were restored. "
                f"Lower learning_rate (now {self.learning_rate}).",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif stop_reason == "interrupted":
            warnings.warn(
                f"Training interrupted after epoch {self.n_iter_}; the estimator keeps the "
                "weights reached so far (the best ones with restore_best_weights).",
                UserWarning,
                stacklevel=4,
            )

    def _check_validation_data(self, validation_data, n_outputs):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "Expected validation_data=(X_val, y_val) or (X_val, y_val, sample_weight_val). "
                f"Received: validation_data of type {type(validation_data).__name__}"
            )
        X_val, y_val = _validate(self, *validation_data[:2], reset=False, name="X_val")
        y_val = y_val.reshape(len(y_val), -1)
        if y_val.shape[1] != n_outputs:
            raise ValueError(
                f"Expected y_val with {n_outputs} output(s), like y. "
                f"Received: y_val with {y_val.shape[1]}"
            )
        if len(validation_data) == 3 and validation_data[2] is not None:
            sw_val = _check_sample_weight(validation_data[2], len(X_val))
        else:
            sw_val = np.ones(len(X_val))
        return X_val, y_val, sw_val

    def _split(self, X, y, sw, rng):
        n = len(X)
        n_val = math.ceil(self.validation_fraction * n)
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"Cannot hold out validation_fraction={self.validation_fraction} of "
                f"n_samples={n} rows and keep rows to train on. Lower validation_fraction, "
                "pass X_val and y_val, or set early_stopping=False."
            )
        order = rng.permutation(n)
        tr, va = order[n_val:], order[:n_val]
        return (X[tr], y[tr], sw[tr]), (X[va], y[va], sw[va])

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
        X = _validate(self, X, reset=False)
        y = _unscale(self.y_scaler_, forward(self._spec, self._weights, _scale(self.x_scaler_, X)))
        if not np.isfinite(y).all():
            raise ValueError(
                "Predictions overflow float64 in y's units: X lies too far outside the "
                "range of the rows seen in fit, or y's range is near float64's limit."
            )
        return y.ravel() if self._y_ndim == 1 else y

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
        from ._persistence import save

        save(self, path, target_names=target_names)

    @property
    def model_(self):
        if "_weights" not in self.__dict__:
            raise NotFittedError(
                "This DenseRegressor instance is not fitted yet. Call 'fit' first."
            )
        if "_model" not in self.__dict__:
            from ._network import build_model

            self._model = build_model(self._spec, [w.astype(np.float32) for w in self._weights])
        return self._model

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
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
