"""Load a DenseRegressor saved with ``DenseRegressor.save``, safely.

Loading parses JSON and reads ``.npy`` arrays itself, header first (see
:mod:`kerasreg._model_file` for the format), so it never unpickles or runs
anything from the file, and checks every array against the architecture the
parameters describe before reading it, in memory bounded by that
architecture; any malformed file is one ValueError (see :func:`load`). It
needs neither TensorFlow nor Keras: predictions use the NumPy forward pass.
"""

import os

from ._estimator import DenseRegressor
from ._fitted import FittedNetwork
from ._model_file import (
    _META,
    check_members,
    feature_names_from_json,
    history_from_json,
    int_field,
    params_from_json,
    read_meta,
    read_weights,
    scaler_from_json,
)
from ._untrusted_zip import error as _error
from ._untrusted_zip import guarded, opened

__all__ = ["load", "load_with_metadata", "read_metadata"]


def load(path):
    """Load a DenseRegressor saved by :func:`save`.

    Nothing in the file is unpickled or run, and TensorFlow is not imported:
    the loaded estimator predicts with NumPy, exactly as the saved one did.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    estimator : DenseRegressor
        The fitted estimator, with the saved parameters and fitted
        attributes.

    Raises
    ------
    ValueError
        ``Cannot load '<path>' as a kerasreg model: <what is wrong>`` for any
        file that is not one: not a regular file or not a zip, a member
        missing, repeated or unexpected, metadata too large, too deeply
        nested or malformed, weights that do not fit the architecture or
        are not finite, implausible scalers or counts, or a file written by
        a newer kerasreg. No other exception escapes for a malformed file.
    OSError
        If the file cannot be opened (no such file, no permission).

    Notes
    -----
    Memory stays bounded by the architecture the file declares: the zip
    directory (at most 16 MiB), the members' compression (stored or
    deflate), their declared sizes and the ``.npy`` headers (at most 4 KiB)
    are checked before any data is decompressed; ``model.json`` is read up
    to 16 MiB, 10,000 lists and objects and 16 levels of nesting; no member
    is read past the bytes its shape needs.

    See Also
    --------
    DenseRegressor.save : Save a fitted DenseRegressor.
    read_metadata : Read the file's metadata only.

    Examples
    --------
    >>> import os, tempfile
    >>> from kerasreg import load
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "notes.kr")
    ...     with open(path, "w") as f:
    ...         _ = f.write("not a model")
    ...     load(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot load '...notes.kr' as a kerasreg model: it is not a zip archive...
    """
    return load_with_metadata(path)[0]


def read_metadata(path):
    """Read the metadata of a model file, without its weights.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    metadata : dict
        The parsed ``model.json``: ``params``, ``feature_names_in_``,
        ``target_names``, ``written_by`` (library versions) and the rest.

    Raises
    ------
    ValueError
        As :func:`load`.

    See Also
    --------
    load : Load the model itself.

    Examples
    --------
    >>> import os, tempfile
    >>> from kerasreg import DenseRegressor, read_metadata
    >>> from kerasreg.datasets import load_red_wine
    >>> X, y = load_red_wine(return_X_y=True)
    >>> reg = DenseRegressor(width=8, depth=1, epochs=5, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     reg.save(os.path.join(tmp, "wine.kr"), target_names=["quality"])
    ...     meta = read_metadata(os.path.join(tmp, "wine.kr"))
    >>> meta["params"]["width"], meta["target_names"], meta["n_features_in_"]
    (8, ['quality'], 11)
    """
    path = os.fspath(path)
    with opened(path) as zf:
        return guarded(path, lambda: read_meta(zf, path, check_members(zf, path)))


def load_with_metadata(path):
    """``(load(path), read_metadata(path))``, reading the file once."""
    path = os.fspath(path)
    with opened(path) as zf:
        return guarded(path, lambda: _load_from(zf, path))


def _load_from(zf, path):
    names = check_members(zf, path)
    meta = read_meta(zf, path, names)
    try:
        est, parts = _from_json(meta)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        raise _error(path, f"{_META} does not describe a valid model: {detail}") from e
    spec, y_ndim, x_scaler, y_scaler, attributes = parts
    fitted = FittedNetwork(spec, read_weights(zf, path, names, spec), x_scaler, y_scaler, y_ndim)
    est._set_fitted_state(fitted, attributes)
    return est, meta


def _from_json(meta):
    """The estimator with its parameters, and the checked fitted parts the file declares."""
    est = DenseRegressor(**params_from_json(meta))
    # The same checks as fit, so that a tampered parameter is caught here.
    est._check_params()

    n_features = int_field(meta, "n_features_in_", 1)
    n_outputs = int_field(meta, "n_outputs_", 1)
    y_ndim = int_field(meta, "y_ndim", 1)
    if y_ndim > 2 or (y_ndim == 1 and n_outputs != 1):
        raise ValueError(f"Expected y_ndim 1 (one output) or 2. Received: {y_ndim}")
    names = feature_names_from_json(meta, n_features)
    n_iter = int_field(meta, "n_iter_", 0)
    best_epoch = int_field(meta, "best_epoch_", 0)
    if best_epoch > n_iter:
        raise ValueError(f"Expected best_epoch_ <= n_iter_ ({n_iter}). Received: {best_epoch}")
    attributes = {
        "n_features_in_": n_features,
        "history_": history_from_json(meta["history_"], n_iter),
        "n_iter_": n_iter,
        "best_epoch_": best_epoch,
    }
    if names is not None:
        attributes["feature_names_in_"] = names
    x_scaler = scaler_from_json(meta["x_scaler_"], "x_scaler_", n_features)
    y_scaler = scaler_from_json(meta["y_scaler_"], "y_scaler_", n_outputs)
    spec = est._network_spec(n_features, n_outputs)
    return est, (spec, y_ndim, x_scaler, y_scaler, attributes)
