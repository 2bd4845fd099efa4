"""TensorFlow's thread pools: as many threads as the process was given, at most its CPUs."""

import os
import warnings

import tensorflow as tf


def _cpus():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on macOS or Windows
        return os.cpu_count() or 1


def thread_count():
    """Threads for TensorFlow's pools from the environment, or None for TensorFlow's own.

    joblib's process workers (``n_jobs>1``, loky) set ``OMP_NUM_THREADS`` to
    cores // n_jobs so that workers don't oversubscribe the cores; TensorFlow
    ignores that variable and would use every core in every worker.
    ``KERASREG_NUM_THREADS`` overrides it. At most the process's CPUs: more
    threads never train faster, and TensorFlow starting 100,000 of them
    hung the first fit (measured); a ``KERASREG_NUM_THREADS`` that is not a
    positive whole number, or above that, gets a warning.
    """
    ours = os.environ.get("KERASREG_NUM_THREADS")
    value = (ours or os.environ.get("OMP_NUM_THREADS") or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        if ours:
            warnings.warn(
                f"KERASREG_NUM_THREADS={ours!r} is not a positive whole number, so it is "
                "ignored: TensorFlow sizes its thread pools itself.",
                UserWarning,
                stacklevel=2,
            )
        return None
    cpus = _cpus()
    if int(value) > cpus and ours:
        warnings.warn(
            f"KERASREG_NUM_THREADS={value} is more than the {cpus} CPU(s) this process may "
            f"use: TensorFlow gets {cpus} threads.",
            UserWarning,
            stacklevel=2,
        )
    return min(int(value), cpus)


def size_thread_pools():
    """Give TensorFlow the thread count the process was given, if any (see thread_count).

    Called on the first fit. Nothing changes when TensorFlow's runtime was
    already started by the user.
    """
    n = thread_count()
    if n is None:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:
        pass  # TensorFlow is running already: its settings are the user's.
