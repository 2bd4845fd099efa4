"""The references themselves, run on kerasreg's numbers: shared by tests and benchmarks.

Imports nothing from kerasreg, so that ``benchmarks/references.py`` can use it
to measure any checkout.
"""

import keras


class _StubModel:
    """What EarlyStopping touches of a model."""

    stop_training = False

    def get_weights(self):
        return []

    def set_weights(self, weights):
        pass


def keras_stop(losses, min_delta, patience):
    """(epochs run, best epoch) by Keras's EarlyStopping on val_loss, counted from 1."""
    model = _StubModel()
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss", min_delta=min_delta, patience=patience, restore_best_weights=True
    )
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        callback.on_epoch_end(epoch, {"loss": 0.0, "val_loss": float(loss)})
        if model.stop_training:
            return epoch + 1, callback.best_epoch + 1
    return len(losses), callback.best_epoch + 1
