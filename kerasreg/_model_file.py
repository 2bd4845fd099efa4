"""The model file's format: what ``DenseRegressor.save`` writes and what loading checks.

A model file (``.kr`` by convention) is a zip archive of plain data:

- ``model.json``: the format name and version, the versions of the libraries
  that wrote it, the estimator's parameters, its fitted attributes (scalers,
  history, feature and target names) and any notes;
- ``weights/0.npy``, ``weights/1.npy``, ...: the network's weights, in
  ``keras.Model.get_weights()`` order.

This module writes the file and reads each part back with its checks; it
knows nothing of the estimator (:mod:`kerasreg._persistence` builds one from
the parts). The bounded reading of an untrusted zip is
:mod:`kerasreg._untrusted_zip`.
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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from . import __version__
from ._untrusted_zip import check_archive, read_json, read_npy
from ._untrusted_zip import error as _error
from ._untrusted_zip import quote as _quote

if TYPE_CHECKING:
    from ._fitted import FittedNetwork

FORMAT = "kerasreg.DenseRegressor"
#: Raise when a change means an older kerasreg cannot read new files.
#: 2: the jit_compile parameter (files of format 1 load with its default).
#: 3: the alpha parameter (files of formats 1 and 2 load with alpha=0.0).
FORMAT_VERSION = 3

_META = "model.json"
_WEIGHTS_MEMBER = re.compile(r"weights/(0|[1-9][0-9]{0,5})\.npy")
_WEIGHT_DTYPES = (np.dtype("<f4"), np.dtype("<f8"))
# model.json: its size (a model's is a few KB, plus ~40 bytes per epoch of
# history) and how deeply it nests (4 levels in files kerasreg writes).
_META_MAX_BYTES = 16 << 20
_JSON_MAX_DEPTH = 16
_JSON_MAX_CONTAINERS = 10_000
_SCALER_ARRAYS = ("min_", "scale_", "data_min_", "data_max_", "data_range_")


def write(
    path: str | os.PathLike,
    fitted: "FittedNetwork",
    *,
    params: dict,
    feature_names: Sequence[str] | None,
    history: pd.DataFrame,
    n_iter: int,
    best_epoch: int,
    target_names: list[str] | None,
) -> None:
    """Write a fitted network, its estimator's parameters and fitted attributes to path.

    The file is written to a temporary name next to `path` and then renamed,
    so an interrupted save never leaves a half-written model at `path`.
    Parameters JSON cannot hold are saved as None, with a note in the file
    and a UserWarning.
    """
    params, notes = params_to_json(params)
    for note in notes:
        warnings.warn(f"{note} Saving to {os.fspath(path)!r} anyway.", UserWarning, stacklevel=3)
    names = feature_names
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "written_by": _versions(),
        "params": params,
        "notes": notes,
        "n_features_in_": int(fitted.spec.n_features),
        "feature_names_in_": None if names is None else [str(n) for n in names],
        "n_outputs_": int(fitted.spec.n_outputs),
        "target_names": target_names,
        "y_ndim": int(fitted.y_ndim),
        "x_scaler_": _scaler_to_json(fitted.x_scaler),
        "y_scaler_": _scaler_to_json(fitted.y_scaler),
        "history_": {
            "epoch": [int(e) for e in history.index],
            # JSON has no NaN: val_loss without validation data is stored as null.
            **{c: [v if math.isfinite(v) else None for v in history[c]] for c in history},
        },
        "n_iter_": int(n_iter),
        "best_epoch_": int(best_epoch),
    }

    members = {_META: json.dumps(meta, indent=1, allow_nan=False).encode()}
    for i, w in enumerate(fitted.weights):
        w32 = w.astype(np.float32)
        # float32 is exact for trained weights; keep float64 for any that are not.
        buf = io.BytesIO()
        np.save(buf, w32 if np.array_equal(w32, w) else w, allow_pickle=False)
        members[f"weights/{i}.npy"] = buf.getvalue()
    _write_atomically(os.fspath(path), members)


def check_members(zf, path):
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


def _versions():
    versions = {"kerasreg": __version__, "python": sys.version.split()[0]}
    for dist in ("keras", "tensorflow", "scikit-learn", "numpy"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def params_to_json(params):
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


def read_meta(zf, path, names):
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


def read_weight(zf, name, path, shape, spec):
    """A weights member as float64, checked against the architecture before it is read."""
    wrong = f"but the architecture {spec} needs float of shape {shape}"
    array = read_npy(zf, name, path, shape, _WEIGHT_DTYPES, wrong)
    if not np.isfinite(array).all():
        raise _error(path, f"{name} holds NaN or infinite weights")
    return array.astype(np.float64)


def int_field(meta, name, minimum):
    value = meta[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Expected {name} to be an int >= {minimum}. Received: {value!r}")
    return value


def _float_array(values, name, n):
    if not (isinstance(values, list) and all(is_number(v) for v in values)):
        raise ValueError(f"Expected {name} to be a list of numbers")
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"Expected {name} of shape ({n},). Received: shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"Expected finite {name}. Received NaN or infinite values")
    return array


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scaler_from_json(data, name, n):
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
    scaler.n_samples_seen_ = int_field(data, "n_samples_seen_", 1)
    scaler.n_features_in_ = n
    return scaler


def history_from_json(history, n_iter):
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
        if not all(v is None or is_number(v) for v in values):
            raise ValueError(f"Expected numbers or null as history_ {column}")
        columns[column] = np.asarray(values, dtype=np.float64)  # null: NaN
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n_iter + 1, name="epoch"))


def read_weights(zf, path, names, spec):
    """The weights of the architecture spec, each checked before it is read."""
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
    return [read_weight(zf, name, path, shape, spec) for name, shape in zip(expected, shapes)]


def params_from_json(meta):
    """The estimator's parameters from the metadata, as JSON-level checks allow them."""
    params = meta["params"]
    if not isinstance(params, dict):
        raise ValueError("Expected params to be an object")
    sizes = params.get("hidden_layer_sizes")
    if sizes is not None:
        if not (isinstance(sizes, list) and all(is_number(u) for u in sizes)):
            raise ValueError("Expected hidden_layer_sizes to be a list of ints or null")
        params = {**params, "hidden_layer_sizes": tuple(sizes)}
    if params.get("callbacks") is not None:
        raise ValueError("Expected callbacks to be null: files hold no callbacks")
    return params


def feature_names_from_json(meta, n_features):
    names = meta["feature_names_in_"]
    if names is None:
        return None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ValueError("Expected feature_names_in_ to be a list of str or null")
    if len(names) != n_features or len(set(names)) != n_features:
        raise ValueError(f"Expected {n_features} distinct feature names")
    return np.asarray(names, dtype=object)
