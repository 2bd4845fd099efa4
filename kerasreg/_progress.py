"""Training progress on the terminal, for ``verbose=1`` and ``verbose=2``."""

import sys
import time

import keras


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
