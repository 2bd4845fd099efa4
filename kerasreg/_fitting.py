"""From validated data to a fitted network: validation rows, scalers, the engine's run.

What :meth:`DenseRegressor.fit` does between checking its input and setting
its fitted attributes, in the order it happens: the validation rows (given,
or held out), the scalers (or the warm start's), the initial weights, the
callbacks, the engine's training run, and the warnings about how it ended.
"""

import functools
import math
import warnings
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._compat import sklearn as sk_compat
from ._fitted import FittedNetwork
from ._network import initial_weights
from ._scaling import check_finite_for_training, fit_scaler, scale
from ._validation import check_sample_weight, validate

if TYPE_CHECKING:
    from ._engine import TrainResult


def validation_rows(validation_data, X_val, y_val, sample_weight_val):
    """fit's validation rows, given either way, as validation_data (or None)."""
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
    return validation_data


def check_validation_data(est, validation_data, n_outputs):
    """(X_val, y_val, sample_weight_val) validated as fit's X and y are."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "Expected validation_data=(X_val, y_val) or (X_val, y_val, sample_weight_val). "
            f"Received: validation_data of type {type(validation_data).__name__}"
        )
    X_val, y_val = validate(est, *validation_data[:2], reset=False, name="X_val")
    y_val = y_val.reshape(len(y_val), -1)
    if y_val.shape[1] != n_outputs:
        raise ValueError(
            f"Expected y_val with {n_outputs} output(s), like y. "
            f"Received: y_val with {y_val.shape[1]}"
        )
    if len(validation_data) == 3 and validation_data[2] is not None:
        sw_val = check_sample_weight(validation_data[2], len(X_val))
    else:
        sw_val = np.ones(len(X_val))
    return X_val, y_val, sw_val


def holdout(n, fraction, rng):
    """Training and validation rows' indices: a random ``fraction`` held out.

    As Keras's validation_split, with the rows drawn at random.
    """
    n_val = math.ceil(fraction * n)
    if n_val < 1 or n - n_val < 1:
        raise ValueError(
            f"Cannot hold out validation_fraction={fraction} of "
            f"n_samples={n} rows and keep rows to train on. Lower validation_fraction, "
            "pass X_val and y_val, or set early_stopping=False."
        )
    order = rng.permutation(n)
    return order[n_val:], order[:n_val]


def prepare(x_scaler, y_scaler, x, y, w, x_index, names, rows):
    """Rows as the engine takes them: scaled float32 X and y, float32 weights.

    ``x[x_index]`` (all of x for None) are the rows of y and w. Each is
    written straight into the engine's padded layout of ``rows`` rows
    (``_engine.PaddedRows``), which the engine shares with its program: no
    copy of X beyond the scaled one (and validation's, for input that is not
    a float array already), a held-out split included.
    """
    from . import _engine

    out = []
    for name, scaler, a, index in zip(names, (x_scaler, y_scaler), (x, y), (x_index, None)):
        padded = _engine.PaddedRows(_engine.aligned((rows, *a.shape[1:])), len(y))
        scale(scaler, a, out=padded.rows, index=index)
        check_finite_for_training(name, padded.rows)
        out.append(padded)
    # Weighted means ignore a common factor; dividing by the largest weight
    # keeps any finite weights within float32.
    weights = _engine.PaddedRows(_engine.aligned((rows,)), len(w))
    np.divide(w, w.max(), out=weights.rows, casting="same_kind")
    return (*out, weights)


def _train_rows(est, n):
    from . import _engine

    return _engine.batch_and_rows(n, est.batch_size)[1]


def _callbacks(est, epochs):
    """The Keras callbacks of a run: the user's, and the progress display for verbose."""
    callbacks = list(est.callbacks or [])
    if est.verbose:
        # Imported here: it needs Keras, which a fit without callbacks never loads.
        from ._progress import EpochProgress

        callbacks.append(EpochProgress(epochs, est.verbose))
    return callbacks


def _seed(est):
    """A run's seed, drawn from random_state; and a generator seeded with it."""
    random_state = est.random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        seed = _seed_of_int(int(random_state))
    else:
        seed = _draw_seed(check_random_state(random_state))
    return seed, np.random.RandomState(seed)


def _draw_seed(rng):
    return int(rng.randint(np.iinfo(np.int32).max))


@functools.lru_cache(maxsize=256)
def _seed_of_int(random_state):
    # The same seed as drawn from check_random_state(random_state), which
    # builds a RandomState (~80 µs, a few percent of a small fit).
    return _draw_seed(check_random_state(random_state))


def partial_fit_network(est, X, y, sw, y_ndim, first):
    """One epoch of est's network on validated rows, from the previous call's state.

    Returns (FittedNetwork, TrainResult, the state to go on from): the
    run's seed and the engine's TrainState, as plain data (a dict).
    """
    from . import _engine

    spec = est._network_spec(X.shape[1], y.shape[1])
    if first:
        seed, local_rng = _seed(est)
        x_scaler = fit_scaler(X, "X") if est.scale_inputs else None
        y_scaler = fit_scaler(y, "y") if est.scale_target else None
        weights, resume = initial_weights(spec, local_rng), None
    else:
        fitted = est._fitted
        if spec != fitted.spec:
            raise ValueError(
                "partial_fit goes on training the fitted network, but the architecture "
                f"changed from {fitted.spec} to {spec}. Call fit to start afresh."
            )
        state = getattr(est, "_partial", None)
        if state is None:  # after fit: its weights and scalers, a fresh optimizer
            seed, resume = _seed(est)[0], None
        elif state["optimizer"] != est.optimizer:  # another update rule: a fresh state
            engine = {**state["engine"], "slots": [], "iterations": 0}
            seed, resume = state["seed"], _engine.TrainState(**engine)
        else:
            seed, resume = state["seed"], _engine.TrainState(**state["engine"])
        x_scaler, y_scaler, weights = fitted.x_scaler, fitted.y_scaler, fitted.weights
    params = {**est.get_params(deep=False), "epochs": 1, "early_stopping": False}
    config = _engine.TrainConfig.from_params(params, seed=seed)
    data = prepare(x_scaler, y_scaler, X, y, sw, None, ("X", "y"), _train_rows(est, len(X)))
    try:
        result = _engine.train(
            spec, weights, data, None, config, _callbacks(est, 1), resume=resume, keep_state=True
        )
    except _engine.DivergedError as e:
        raise ValueError(f"DenseRegressor diverged. {e}") from e
    fitted = FittedNetwork.from_training(spec, result.weights, x_scaler, y_scaler, y_ndim)
    engine_state = {
        "slots": result.state.slots, "iterations": result.state.iterations,
        "epochs": result.state.epochs,
    }  # fmt: skip
    return fitted, result, {"seed": seed, "optimizer": est.optimizer, "engine": engine_state}


def fit_network(
    est, X: np.ndarray, y: np.ndarray, sw: np.ndarray, validation_data: tuple | None,
    y_ndim: int, warm: bool,
) -> tuple[FittedNetwork, "TrainResult", object]:  # fmt: skip
    """Train est's network on validated X, y, sw; returns (FittedNetwork, TrainResult, context).

    ``context`` is scikit-learn's callback context of the fit (or None), begun here.
    """
    seed, local_rng = _seed(est)

    # (X, y, sample weights, the rows of X that y and the weights are: None for all).
    if validation_data is not None:
        val = (*check_validation_data(est, validation_data, y.shape[1]), None)
        val_names = ("X_val", "y_val")
        train = (X, y, sw, None)
    elif est.early_stopping and est.validation_fraction > 0:
        tr, va = holdout(len(X), est.validation_fraction, local_rng)
        # X's rows are gathered as they are scaled: no copy of X.
        train, val = (X, y[tr], sw[tr], tr), (X, y[va], sw[va], va)
        val_names = ("X", "y")
    else:
        train, val = (X, y, sw, None), None

    spec = est._network_spec(X.shape[1], y.shape[1])
    if warm:
        fitted = est._fitted
        if spec != fitted.spec:
            raise ValueError(
                "warm_start=True continues the fitted network, but the architecture "
                f"changed from {fitted.spec} to {spec}. Set warm_start=False to start afresh."
            )
        x_scaler, y_scaler, weights = fitted.x_scaler, fitted.y_scaler, fitted.weights
    else:
        x_scaler = fit_scaler(train[0], "X", index=train[3]) if est.scale_inputs else None
        y_scaler = fit_scaler(train[1], "y") if est.scale_target else None
        weights = initial_weights(spec, local_rng)

    callbacks = _callbacks(est, est.epochs)
    context = sk_compat.begin_fit(est, X, y, max_subtasks=est.epochs)
    if context is not None and sk_compat.has_callbacks(est):
        from ._progress import EpochTasks

        def fitted_state(weights):
            fitted = FittedNetwork.from_training(spec, weights, x_scaler, y_scaler, y_ndim)
            return est._fitted_attributes(fitted)

        callbacks.append(EpochTasks(context, est, X, y, fitted_state))

    from . import _engine

    config = _engine.TrainConfig.from_params(est.get_params(deep=False), seed=seed)
    train = prepare(x_scaler, y_scaler, *train, ("X", "y"), _train_rows(est, len(train[1])))
    if val is not None:
        val = prepare(x_scaler, y_scaler, *val, val_names, _engine.val_rows(len(val[1])))
    try:
        result = _engine.train(spec, weights, train, val, config, callbacks)
    except _engine.DivergedError as e:
        raise ValueError(f"DenseRegressor diverged. {e}") from e
    fitted = FittedNetwork.from_training(spec, result.weights, x_scaler, y_scaler, y_ndim)
    return fitted, result, context


def warn_stop(est, stop_reason):
    """Warn, as scikit-learn's estimators do, when a fit ended other than by early stopping."""
    if stop_reason == "max_epochs" and est.early_stopping:
        warnings.warn(
            f"DenseRegressor reached epochs={est.epochs} before early stopping "
            f"triggered: the monitored loss improved by more than min_delta within the "
            f"last patience={est.patience} epochs. Raise epochs to train longer.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif stop_reason == "diverged":
        warnings.warn(
            f"The loss became NaN or infinite at epoch {est.n_iter_ + 1}; training "
            f"stopped and the weights of epoch {est.best_epoch_} were restored. "
            f"Lower learning_rate (now {est.learning_rate}).",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif stop_reason == "interrupted":
        warnings.warn(
            f"Training interrupted after epoch {est.n_iter_}; the estimator keeps the "
            "weights reached so far (the best ones with restore_best_weights).",
            UserWarning,
            stacklevel=4,
        )
