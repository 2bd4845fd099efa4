"""Save a fitted DenseRegressor to one file and load it back, safely.

A model file (``.kr`` by convention) is a zip archive of plain data:

- ``model.json``: the format name and version, the versions of the libraries
  that wrote it, the estimator's parameters, its fitted attributes (scalers,
  history, feature and target names) and any notes;
- ``weights/0.npy``, ``weights/1.npy``, ...: the network's weights, in
  ``keras.Model.get_weights()`` order.

Loading parses JSON and reads ``.npy`` arrays itself, header first, so it
never unpickles or runs anything from the file, and checks every array
against the architecture the parameters describe before reading it, in
memory bounded by that architecture; any malformed file is one ValueError
(see :func:`load`); the bounded reading itself is
:mod:`kerasreg._untrusted_zip`. It needs neither TensorFlow nor Keras:
predictions use the NumPy forward pass.
"""

import importlib.metadata
import io
import json
import math
import os
import re
import secrets
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.validation import check_is_fitted

from . import __version__
from ._estimator import DenseRegressor
from ._network import NetworkSpec
from ._untrusted_zip import check_archive, guarded, opened, read_json, read_npy
from ._untrusted_zip import error as _error
from ._untrusted_zip import quote as _quote

FORMAT = "kerasreg.DenseRegressor"
#: Raise when a change means an older kerasreg cannot read new files.
#: 2: the jit_compile parameter (files of format 1 load with its default).
FORMAT_VERSION = 2

_META = "model.json"
_WEIGHTS_MEMBER = re.compile(r"weights/(0|[1-9][0-9]{0,5})\.npy")
_WEIGHT_DTYPES = (np.dtype("<f4"), np.dtype("<f8"))
# model.json: its size (a model's is a few KB, plus ~40 bytes per epoch of
# history) and how deeply it nests (4 levels in files kerasreg writes).
_META_MAX_BYTES = 16 << 20
_JSON_MAX_DEPTH = 16
_JSON_MAX_CONTAINERS = 10_000
_SCALER_ARRAYS = ("min_", "scale_", "data_min_", "data_max_", "data_range_")


def save(estimator, path, *, target_names=None):
    """Save a fitted DenseRegressor to a single file, without pickle.

    The file is a zip archive holding the parameters and fitted state as
    JSON and the weights as ``.npy`` arrays; :func:`load` reads it back
    without unpickling anything and without TensorFlow. The file is written
    to a temporary name next to `path` and then renamed, so an interrupted
    save never leaves a half-written model at `path`.

    Parameters
    ----------
    estimator : DenseRegressor
        A fitted estimator.

    path : str or path-like
        Where to write, conventionally with the suffix ``.kr``. An existing
        file is replaced.

    target_names : list of str, default=None
        Names of the targets, one per output, stored as metadata (the
        command line names its prediction columns after them).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `estimator` is not fitted.

    See Also
    --------
    load : Load a model saved by this function.

    Notes
    -----
    Parameters that JSON cannot represent, a ``RandomState`` instance as
    ``random_state`` and the ``callbacks`` objects, are saved as None, with a
    note in the file, and a ``UserWarning`` is issued. Weights are stored as
    float32, which is exact since training happens in float32.

    Pickle and joblib work too, but unpickling can run arbitrary code: use
    them for files you trust only. This format is the one to share.

    Examples
    --------
    >>> import os, tempfile
    >>> from kerasreg import DenseRegressor
    >>> from kerasreg._persistence import load, save
    >>> from kerasreg.datasets import load_red_wine
    >>> X, y = load_red_wine(return_X_y=True)
    >>> reg = DenseRegressor(width=8, depth=1, epochs=5, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "wine.kr")
    ...     save(reg, path, target_names=["quality"])
    ...     loaded = load(path)
    >>> bool((loaded.predict(X) == reg.predict(X)).all())
    True
    """
    if not isinstance(estimator, DenseRegressor):
        raise TypeError(
            f"Expected a DenseRegressor. Received: estimator of type {type(estimator).__name__}"
        )
    check_is_fitted(estimator)
    spec = _spec(estimator, estimator.n_features_in_, estimator.n_outputs_)
    if spec != estimator._spec:
        raise ValueError(
            "The architecture parameters changed since fit: the fitted network is "
            f"{estimator._spec}, the parameters now describe {spec}. Set them back, or refit, "
            "before saving."
        )
    if target_names is not None:
        target_names = [str(name) for name in target_names]
        if len(target_names) != estimator.n_outputs_:
            raise ValueError(
                f"Expected one target name per output ({estimator.n_outputs_}). "
                f"Received: target_names={target_names}"
            )

    params, notes = _params_to_json(estimator.get_params(deep=False))
    for note in notes:
        warnings.warn(f"{note} Saving to {os.fspath(path)!r} anyway.", UserWarning, stacklevel=2)
    names = getattr(estimator, "feature_names_in_", None)
    history = estimator.history_
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "written_by": _versions(),
        "params": params,
        "notes": notes,
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None if names is None else [str(n) for n in names],
        "n_outputs_": int(estimator.n_outputs_),
        "target_names": target_names,
        "y_ndim": int(estimator._y_ndim),
        "x_scaler_": _scaler_to_json(estimator.x_scaler_),
        "y_scaler_": _scaler_to_json(estimator.y_scaler_),
        "history_": {
            "epoch": [int(e) for e in history.index],
            # JSON has no NaN: val_loss without validation data is stored as null.
            **{c: [v if math.isfinite(v) else None for v in history[c]] for c in history},
        },
        "n_iter_": int(estimator.n_iter_),
        "best_epoch_": int(estimator.best_epoch_),
    }

    members = {_META: json.dumps(meta, indent=1, allow_nan=False).encode()}
    for i, w in enumerate(estimator._weights):
        w32 = w.astype(np.float32)
        # float32 is exact for trained weights; keep float64 for any that are not.
        buf = io.BytesIO()
        np.save(buf, w32 if np.array_equal(w32, w) else w, allow_pickle=False)
        members[f"weights/{i}.npy"] = buf.getvalue()
    _write_atomically(os.fspath(path), members)


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
    save : Save a fitted DenseRegressor.
    read_metadata : Read the file's metadata only.

    Examples
    --------
    >>> import os, tempfile
    >>> from kerasreg._persistence import load
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
    """
    path = os.fspath(path)
    with opened(path) as zf:
        return guarded(path, lambda: _read_meta(zf, path, _check_members(zf, path)))


def load_with_metadata(path):
    """``(load(path), read_metadata(path))``, reading the file once."""
    path = os.fspath(path)
    with opened(path) as zf:
        return guarded(path, lambda: _load_from(zf, path))


def _check_members(zf, path):
    """The member names, once each, of the kinds kerasreg writes; raises otherwise."""
    names = check_archive(zf, path)
    if _META not in names:
        raise _error(path, f"it has no {_META!r} member, so it was not written by kerasreg")
    unexpected = [n for n in names if n != _META and not _WEIGHTS_MEMBER.fullmatch(n)]
    if unexpected:
        raise _error(
            path,
            f"it holds unexpected members {_quote(unexpected[:5])}: a kerasreg model holds "
            f"{_META!r} and weights/<i>.npy only",
        )
    return names


def _load_from(zf, path):
    names = _check_members(zf, path)
    meta = _read_meta(zf, path, names)
    try:
        est = _estimator_from_json(meta)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        raise _error(path, f"{_META} does not describe a valid model: {detail}") from e
    spec = est._spec
    shapes = spec.weight_shapes()
    expected = [f"weights/{i}.npy" for i in range(len(shapes))]
    for name in expected:
        if name not in names:
            raise _error(path, f"the member {name!r} is missing")
    extra = sorted(set(names) - {_META, *expected})
    if extra:
        raise _error(
            path, f"it holds {_quote(extra[:5])}, which the architecture {spec} does not have"
        )
    est._weights = [
        _read_array(zf, name, path, shape, spec) for name, shape in zip(expected, shapes)
    ]
    return est, meta


def _spec(estimator, n_features, n_outputs):
    """The architecture that the estimator's parameters describe."""
    return NetworkSpec(
        n_features=n_features,
        n_outputs=n_outputs,
        hidden_layer_sizes=estimator._layer_sizes(),
        activation=estimator.activation,
        dropout=float(estimator.dropout),
        batch_norm=bool(estimator.batch_norm),
    )


def _versions():
    versions = {"kerasreg": __version__, "python": sys.version.split()[0]}
    for dist in ("keras", "tensorflow", "scikit-learn", "numpy"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def _params_to_json(params):
    """JSON-ready parameters, and notes on the ones JSON cannot hold."""
    out, notes = {}, []
    for name, value in params.items():
        if isinstance(value, (np.generic, np.ndarray)):
            value = value.tolist()
        if isinstance(value, (tuple, list)) and all(
            isinstance(v, (int, np.integer)) for v in value
        ):
            value = [int(v) for v in value]
        elif value is not None and not isinstance(value, (bool, int, float, str)):
            notes.append(f"{name}={value!r} cannot be stored as JSON and is saved as {name}=None.")
            value = None
        out[name] = value
    return out, notes


def _scaler_to_json(scaler):
    if scaler is None:
        return None
    out = {a: getattr(scaler, a).tolist() for a in _SCALER_ARRAYS}
    out["n_samples_seen_"] = int(scaler.n_samples_seen_)
    out["feature_range"] = [float(v) for v in scaler.feature_range]
    out["clip"] = bool(scaler.clip)
    return out


def _write_atomically(path, members):
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as for
    # any new file; tempfile.mkstemp would make the model private (0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for member, data in members.items():
                    zf.writestr(member, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read_meta(zf, path, names):
    meta = read_json(
        zf, _META, path, max_bytes=_META_MAX_BYTES, max_containers=_JSON_MAX_CONTAINERS,
        max_depth=_JSON_MAX_DEPTH,
    )  # fmt: skip
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise _error(path, f"{_META} is not a kerasreg model (format {found!r}, not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _error(path, f"{_META} has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise _error(
            path,
            f"it was written by a newer kerasreg (format {version}); upgrade kerasreg "
            f"(this one, {__version__}, reads format {FORMAT_VERSION} and older)",
        )
    return meta


def _read_array(zf, name, path, shape, spec):
    """A weights member as float64, checked against the architecture before it is read."""
    wrong = f"but the architecture {spec} needs float of shape {shape}"
    array = read_npy(zf, name, path, shape, _WEIGHT_DTYPES, wrong)
    if not np.isfinite(array).all():
        raise _error(path, f"{name} holds NaN or infinite weights")
    return array.astype(np.float64)


def _int_field(meta, name, minimum):
    value = meta[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Expected {name} to be an int >= {minimum}. Received: {value!r}")
    return value


def _float_array(values, name, n):
    if not (isinstance(values, list) and all(_is_number(v) for v in values)):
        raise ValueError(f"Expected {name} to be a list of numbers")
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"Expected {name} of shape ({n},). Received: shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"Expected finite {name}. Received NaN or infinite values")
    return array


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scaler_from_json(data, name, n):
    if data is None:
        return None
    if data["feature_range"] != [0.0, 1.0] or data["clip"] is not False:
        raise ValueError(
            f"Expected {name} to scale to [0, 1] without clipping, as kerasreg's scalers do. "
            f"Received: feature_range={data['feature_range']!r}, clip={data['clip']!r}"
        )
    scaler = MinMaxScaler()
    for attr in _SCALER_ARRAYS:
        setattr(scaler, attr, _float_array(data[attr], f"{name}.{attr}", n))
    if not (scaler.scale_ > 0).all() or (scaler.data_range_ < 0).any():
        raise ValueError(f"Expected {name}.scale_ > 0 and {name}.data_range_ >= 0")
    scaler.n_samples_seen_ = _int_field(data, "n_samples_seen_", 1)
    scaler.n_features_in_ = n
    return scaler


def _history_from_json(history, n_iter):
    """history_ as fit leaves it: epochs 1 to n_iter_, a loss and a val_loss each."""
    epochs = history["epoch"]
    if not (
        isinstance(epochs, list) and len(epochs) == n_iter and epochs == [*range(1, n_iter + 1)]
    ):
        raise ValueError(f"Expected history_ epochs 1 to n_iter_={n_iter}")
    columns = {}
    for column in ("loss", "val_loss"):
        values = history[column]
        if not (isinstance(values, list) and len(values) == n_iter):
            raise ValueError(f"Expected {n_iter} values of history_ {column}")
        if not all(v is None or _is_number(v) for v in values):
            raise ValueError(f"Expected numbers or null as history_ {column}")
        columns[column] = np.asarray(values, dtype=np.float64)  # null: NaN
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n_iter + 1, name="epoch"))


def _estimator_from_json(meta):
    params = meta["params"]
    if not isinstance(params, dict):
        raise ValueError("Expected params to be an object")
    sizes = params.get("hidden_layer_sizes")
    if sizes is not None:
        if not (isinstance(sizes, list) and all(_is_number(u) for u in sizes)):
            raise ValueError("Expected hidden_layer_sizes to be a list of ints or null")
        params = {**params, "hidden_layer_sizes": tuple(sizes)}
    if params.get("callbacks") is not None:
        raise ValueError("Expected callbacks to be null: files hold no callbacks")
    est = DenseRegressor(**params)
    # The same checks as fit, so that a tampered parameter is caught here.
    est._validate_params()

    n_features = _int_field(meta, "n_features_in_", 1)
    n_outputs = _int_field(meta, "n_outputs_", 1)
    y_ndim = _int_field(meta, "y_ndim", 1)
    if y_ndim > 2 or (y_ndim == 1 and n_outputs != 1):
        raise ValueError(f"Expected y_ndim 1 (one output) or 2. Received: {y_ndim}")
    names = meta["feature_names_in_"]
    if names is not None:
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise ValueError("Expected feature_names_in_ to be a list of str or null")
        if len(names) != n_features or len(set(names)) != n_features:
            raise ValueError(f"Expected {n_features} distinct feature names")
        est.feature_names_in_ = np.asarray(names, dtype=object)

    n_iter = _int_field(meta, "n_iter_", 0)
    best_epoch = _int_field(meta, "best_epoch_", 0)
    if best_epoch > n_iter:
        raise ValueError(f"Expected best_epoch_ <= n_iter_ ({n_iter}). Received: {best_epoch}")
    frame = _history_from_json(meta["history_"], n_iter)

    est._spec = _spec(est, n_features, n_outputs)
    est._y_ndim = y_ndim
    est.n_features_in_ = n_features
    est.n_outputs_ = n_outputs
    est.x_scaler_ = _scaler_from_json(meta["x_scaler_"], "x_scaler_", n_features)
    est.y_scaler_ = _scaler_from_json(meta["y_scaler_"], "y_scaler_", n_outputs)
    est.history_ = frame
    est.n_iter_ = n_iter
    est.best_epoch_ = best_epoch
    return est
