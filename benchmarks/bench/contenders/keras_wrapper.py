"""Keras 3's own scikit-learn wrapper, ``keras.wrappers.SKLearnRegressor``."""

from ..harness import Skipped, perf, require
from . import Contender, DenseFit
from .keras import build_keras_model


class KerasWrapperFit(DenseFit):
    """A new wrapper per fit: it builds and traces a new model on every fit anyway."""

    def __call__(self):
        (keras, SKLearnRegressor), d = self.lib, self.d

        def build(X, y, width, depth):
            return build_keras_model(keras, X.shape[1], width, depth)

        keras.utils.set_random_seed(0)
        est = SKLearnRegressor(
            model=build,
            model_kwargs=dict(width=self.width, depth=self.depth),
            fit_kwargs=dict(batch_size=self.batch_size, epochs=self.epochs, verbose=0),
        )
        t0 = perf()
        est.fit(d.Xs_tr, d.ys_tr, validation_data=(d.Xs_va, d.ys_va))
        seconds = perf() - t0
        pred = d.unscale_y(est.model_.predict(d.Xs_va, verbose=0))
        hist = est.history_.history
        return self.result(seconds, len(hist["loss"]), pred, validates="val_loss" in hist)


class KerasWrapper(Contender):
    key = "keras_wrapper"
    name = "keras.wrappers.SKLearnRegressor"
    short = "SKLearnRegressor"
    note = (
        "validation via `fit(..., validation_data=...)`; the wrapper builds and "
        "traces a new model on every fit (its warm_start is not used by fit), "
        "so its timed fit includes that"
    )
    fit_class = KerasWrapperFit

    def available(self):
        keras = require("keras")
        try:
            from keras.wrappers import SKLearnRegressor
        except ImportError:
            raise Skipped("skipped: keras.wrappers.SKLearnRegressor needs Keras >= 3.5") from None
        return keras, SKLearnRegressor


CONTENDER = KerasWrapper()
