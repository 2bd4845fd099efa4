"""Training progress on the terminal, for ``verbose=1`` and ``verbose=2``."""

import sys
import time

from ._compat import sklearn as sk_compat
from ._compat.startup import import_quietly

keras = import_quietly("keras")


class EpochProgress(keras.callbacks.Callback):
    """Report each epoch's loss and val_loss.

    Parameters
    ----------
    epochs : int
        The most epochs the run may take (a bar's 100%).
    mode : {1, 2}
        1 redraws one progress bar per epoch; 2 prints one line per epoch.
    stream : file-like, default=None
        Where to write; ``sys.stdout`` when None, looked up at each write so
        that captured output works.
    """

    # It never looks at the model: the engine need not build a Keras model
    # and copy the weights into it every epoch for this callback.
    reads_model = False

    def __init__(self, epochs, mode, stream=None):
        super().__init__()
        self.epochs = epochs
        self.mode = mode
        self.stream = stream

    def _write(self, text):
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._done = 0

    def on_epoch_end(self, epoch, logs=None):
        self._done = epoch + 1
        elapsed = time.perf_counter() - self._start
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items())
        if self.mode == 2:
            ms = 1000 * elapsed / self._done
            self._write(f"Epoch {self._done}/{self.epochs} - {metrics} - {ms:.0f}ms/epoch\n")
            return
        width = 20
        filled = int(width * self._done / self.epochs)
        bar = "=" * filled + "." * (width - filled)
        left = elapsed / self._done * (self.epochs - self._done)
        self._write(
            f"\rEpoch {self._done}/{self.epochs} [{bar}] {metrics} - at most {left:.0f}s left  "
        )

    def on_train_end(self, logs=None):
        if self.mode == 1 and self._done:
            self._write("\n")


class EpochTasks(keras.callbacks.Callback):
    """Report each epoch to scikit-learn's callbacks as a subtask of the fit.

    Parameters
    ----------
    context : sklearn.callback.CallbackContext
        The fit's root context.
    estimator : estimator instance
        The estimator being fitted.
    X, y : ndarray
        The training data, passed on to the hooks.
    fitted_state : callable
        Maps the current Keras weights to the attributes that make a copy of
        the estimator predict as if fitting had stopped here; called only
        when a callback asks for ``fitted_estimator``.
    """

    def __init__(self, context, estimator, X, y, fitted_state):
        super().__init__()
        self.context = context
        self.estimator = estimator
        self.X, self.y = X, y
        self.fitted_state = fitted_state

    def on_epoch_begin(self, epoch, logs=None):
        self._task = sk_compat.epoch_begin(self.context, self.estimator, self.X, self.y)

    def on_epoch_end(self, epoch, logs=None):
        stop = sk_compat.epoch_end(
            self._task, self.estimator, self.X, self.y, logs,
            lambda: self.fitted_state(self.model.get_weights()),
        )  # fmt: skip
        if stop:
            self.model.stop_training = True
