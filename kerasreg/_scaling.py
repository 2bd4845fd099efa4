"""Min-max scaling as scikit-learn's MinMaxScaler does it, without dropping tiny ranges."""

import numpy as np
from sklearn.preprocessing import MinMaxScaler


def _chunks(a, index, chunk_rows):
    """(slice of the result, rows of ``a[index]``) a chunk at a time; index None: all of a."""
    n = len(a) if index is None else len(index)
    for start in range(0, n, chunk_rows):
        rows = slice(start, start + chunk_rows)
        yield rows, a[rows] if index is None else a[index[rows]]


def scale(scaler, a, dtype=np.float64, chunk_rows=65536, out=None, index=None):
    """MinMaxScaler.transform's own arithmetic on ``a[index]``, as a new array or into ``out``.

    Without the scaler's input validation, which would cost more than a
    one-row prediction. Computed in float64 a chunk of rows at a time and
    written into the result, so that values beyond float32's range are scaled
    before the cast, with no float64 temporary the size of the data; index
    (None: all rows) gathers the rows a chunk at a time, without a copy of a.
    """
    if out is None:
        if scaler is None and index is None:
            return np.array(a, dtype=dtype, order="C")
        out = np.empty((len(a) if index is None else len(index), *a.shape[1:]), dtype=dtype)
    for rows, chunk in _chunks(a, index, chunk_rows):
        out[rows] = chunk if scaler is None else chunk * scaler.scale_ + scaler.min_
    return out


def check_finite_for_training(name, a):
    # Finite float64 can still be beyond float32, in which the network trains.
    if not np.isfinite(a).all():
        raise ValueError(
            f"{name} holds values beyond float32's range (about 3.4e38) after scaling, "
            "which the network cannot train on: values far outside the training rows' "
            "range, or scale_inputs/scale_target turned off. Rescale the data."
        )


def _folded(a, fold):
    """a's rows folded in halves with fold (np.minimum or np.maximum), to at most 64."""
    while len(a) > 64:
        half = len(a) // 2
        folded = fold(a[:half], a[half : 2 * half])
        if len(a) % 2:
            folded[0] = fold(folded[0], a[-1])
        a = folded
    return a


def column_extremes(a, chunk_rows=65536, index=None):
    """``(a.min(axis=0), a.max(axis=0))`` of a finite 2-D array's rows ``index``, faster.

    NumPy reduces a C-ordered array's columns a row at a time; folding the
    rows in halves is elementwise over whole rows instead, 3-8x faster for
    several columns. Exact, as minimum and maximum are. A chunk of rows at a
    time: the folds' temporaries stay small, and index (None: all rows)
    gathers rows without a copy of a.
    """
    if index is None and (a.shape[1] == 1 or not len(a)):
        return a.min(axis=0), a.max(axis=0)
    lows, highs = [], []
    for _, rows in _chunks(a, index, chunk_rows):
        lows.append(_folded(rows, np.minimum).min(axis=0))
        highs.append(_folded(rows, np.maximum).max(axis=0))
    return np.min(lows, axis=0), np.max(highs, axis=0)


def fit_scaler(a, name, index=None):
    """A MinMaxScaler fitted on ``a[index]`` (None: all of a), to [0, 1] in every column.

    MinMaxScaler takes a range below 10 * eps (about 2.2e-15, absolute) for a
    constant column and leaves it unscaled, which would drop the signal of
    columns measured in small units (m², kg). Here only an exactly constant
    column keeps the scale 1 (it carries no signal), so that multiplying X or
    y by any factor changes the predictions by that factor only. Every other
    column gets MinMaxScaler's own values, bit for bit.
    """
    # MinMaxScaler.fit's attributes, computed directly: a is validated and
    # finite already, and the scaler's checks would cost ~0.4 ms a fit. The
    # scaler is otherwise MinMaxScaler's own (tests compare every attribute).
    scaler = MinMaxScaler()
    scaler.n_features_in_ = a.shape[1]
    scaler.n_samples_seen_ = a.shape[0] if index is None else len(index)
    scaler.data_min_, scaler.data_max_ = column_extremes(a, index=index)
    scaler.data_range_ = scaler.data_max_ - scaler.data_min_
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


def unscale(scaler, a):
    return a if scaler is None else (a - scaler.min_) / scaler.scale_
