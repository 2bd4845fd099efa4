"""Fits in processes forked from one where TensorFlow runs: a clear error, not a hang.

TensorFlow's runtime does not survive ``fork()``: its thread pools stay in the
parent, and the child's first TensorFlow operation waits for them forever.
``multiprocessing`` forks by default on Linux before Python 3.14. A hook
registered with ``os.register_at_fork`` (when :mod:`kerasreg._estimator` is
imported, before TensorFlow is) notes in the child whether the parent had
started TensorFlow's runtime; the engine checks that before its first
TensorFlow call. A child forked before any TensorFlow operation trains as
usual, and ``predict`` (NumPy only) works in any child.
"""

import os

from ._compat.tensorflow import runtime_started

_forked_from_tensorflow = False

FORK_MESSAGE = (
    "DenseRegressor cannot train in a process forked from one in which TensorFlow "
    "had already run: TensorFlow's runtime does not survive fork() and the fit would "
    "hang. Start worker processes with the 'spawn' or 'forkserver' method "
    "(multiprocessing.get_context('spawn')), or use joblib (e.g. GridSearchCV's "
    "n_jobs), which starts fresh processes."
)


def _after_fork_in_child():
    global _forked_from_tensorflow
    _forked_from_tensorflow = _forked_from_tensorflow or runtime_started()


def check_not_forked():
    """Raise RuntimeError in a child forked after TensorFlow started in its parent."""
    if _forked_from_tensorflow:
        raise RuntimeError(FORK_MESSAGE)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
