"""Data as the compiled program takes them: padded to a few sizes, shared without copies."""

import numpy as np

from .._compat import tensorflow as tf_compat
from .config import settings


def padded_rows(n, multiple, minimum=None):
    """Padded size for n rows: the next power of two, in whole multiples.

    Powers of two (at least ``minimum``, by default ``settings.min_train_rows``)
    keep the number of distinct compiled shapes small: folds of similar size
    and all small data sets share one. The padding costs memory, at most as
    much as the data, and little arithmetic: the loops stop at the last real
    row's batch or evaluation slice.
    """
    minimum = settings.min_train_rows if minimum is None else minimum
    size = max(minimum, 1 << max(int(n) - 1, 1).bit_length())
    return -(-size // multiple) * multiple


def batch_and_rows(n, batch_size):
    """(batch, rows): a fit's batch size and padded training rows, for n rows.

    A batch larger than the data is one padded batch; no larger than the
    padded data, so that a huge batch_size does not allocate padding.
    """
    batch = min(batch_size, padded_rows(n, 1))
    return batch, padded_rows(n, batch)


def val_rows(n):
    """Padded validation rows, for n: a power of two of at least settings.min_val_rows."""
    return padded_rows(n, 1, settings.min_val_rows)


class PaddedRows:
    """Rows already laid out as the program takes them: no copy on the way in.

    ``array`` is an :func:`aligned` array of the padded row count
    (:func:`batch_and_rows`, :func:`val_rows`) whose first ``n`` rows are
    the data and the rest zeros (weight 0). Whoever prepares the data
    writes them there, rather than into an array :func:`padded` would copy.
    """

    def __init__(self, array, n):
        self.array, self.n = array, n

    def __len__(self):
        return self.n

    @property
    def rows(self):
        """The real rows (a view)."""
        return self.array[: self.n]


def aligned(shape, dtype=np.float32):
    """A zeroed array whose data start on a 64-byte boundary.

    TensorFlow's kernels require 64-byte aligned buffers; NumPy's only
    guarantee 16.
    """
    n, itemsize = int(np.prod(shape)), np.dtype(dtype).itemsize
    buffer = np.zeros(n + 64 // itemsize, dtype)
    start = (-buffer.ctypes.data % 64) // itemsize
    return buffer[start : start + n].reshape(shape)


def shared(array):
    """A tensor sharing an aligned array's memory: no copy."""
    return tf_compat.shared_tensor(array)


def padded(arrays, size):
    """Tensors of ``size`` rows: the arrays' rows, then zeros (weight 0).

    The padded arrays become tensors that share their memory, where
    ``tf.convert_to_tensor`` would copy them (twice over, in fact, for large
    arrays); the padding is written once.
    """
    out = []
    for a in arrays:
        if isinstance(a, PaddedRows) and len(a.array) == size:
            out.append(shared(a.array))
            continue
        if isinstance(a, PaddedRows):  # laid out for another size
            a = a.rows
        array = aligned((size, *a.shape[1:]))
        array[: len(a)] = a
        out.append(shared(array))
    return out
