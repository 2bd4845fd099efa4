"""Plain Keras ``model.fit``: the seed's code (Sequential, Dense ReLU layers, Adam, MAE)."""

import numpy as np

from ..harness import perf, require
from . import Contender, DenseFit, IsolatedContender


def build_keras_model(keras, n_features, width, depth, compiled=True):
    """The seed's network: Sequential, Dense ReLU layers, Dense(1), Adam, MAE."""
    from keras import layers

    model = keras.Sequential(
        [layers.Input((n_features,))]
        + [layers.Dense(width, activation="relu") for _ in range(depth)]
        + [layers.Dense(1)]
    )
    if compiled:
        model.compile(optimizer="adam", loss="mae")
    return model


class KerasFit(DenseFit):
    """The first fit builds and compiles the model; later fits re-run ``model.fit`` on it."""

    def __call__(self):
        keras, d = self.lib, self.d
        t0 = perf()
        if self.model is None:
            keras.utils.set_random_seed(0)
            self.model = build_keras_model(keras, d.n_features, self.width, self.depth)
        model = self.model
        hist = model.fit(
            d.Xs_tr,
            d.ys_tr,
            validation_data=(d.Xs_va, d.ys_va),
            batch_size=self.batch_size,
            epochs=self.epochs,
            verbose=0,
        )
        seconds = perf() - t0
        pred = d.unscale_y(model.predict(d.Xs_va, verbose=0))
        return self.result(
            seconds, len(hist.history["loss"]), pred, validates="val_loss" in hist.history
        )


class TunedKerasFit(KerasFit):
    """model.fit as someone who tuned Keras writes it: one epoch's steps per compiled call
    (``steps_per_execution``), XLA, and optionally a cached ``tf.data`` pipeline."""

    jit_compile = True
    dataset = False

    def __call__(self):
        keras, d = self.lib, self.d
        steps = -(-len(d.ys_tr) // self.batch_size)
        t0 = perf()
        if self.model is None:
            keras.utils.set_random_seed(0)
            self.model = build_keras_model(
                keras, d.n_features, self.width, self.depth, compiled=False
            )
            self.model.compile(
                optimizer="adam", loss="mae", jit_compile=self.jit_compile,
                steps_per_execution=steps,
            )  # fmt: skip
            if self.dataset:
                import tensorflow as tf

                train = tf.data.Dataset.from_tensor_slices((d.Xs_tr, d.ys_tr)).cache()
                self.train = (
                    train.shuffle(len(d.ys_tr), seed=0, reshuffle_each_iteration=True)
                    .batch(self.batch_size)
                    .prefetch(tf.data.AUTOTUNE)
                )
                self.val = (
                    tf.data.Dataset.from_tensor_slices((d.Xs_va, d.ys_va))
                    .batch(self.batch_size)
                    .cache()
                    .prefetch(tf.data.AUTOTUNE)
                )
        model = self.model
        if self.dataset:
            hist = model.fit(self.train, validation_data=self.val, epochs=self.epochs, verbose=0)
        else:
            hist = model.fit(
                d.Xs_tr, d.ys_tr, validation_data=(d.Xs_va, d.ys_va),
                batch_size=self.batch_size, epochs=self.epochs, verbose=0,
            )  # fmt: skip
        seconds = perf() - t0
        pred = d.unscale_y(model.predict(d.Xs_va, verbose=0))
        return self.result(
            seconds, len(hist.history["loss"]), pred, validates="val_loss" in hist.history
        )


class KerasOnBackend(IsolatedContender):
    """Keras on ``backend`` (``KERAS_BACKEND``), in a process of its own."""

    backend = "tensorflow"

    def environment(self):
        return {"KERAS_BACKEND": self.backend}

    def available(self):
        import keras

        assert keras.backend.backend() == self.backend, keras.backend.backend()
        return keras


class Keras(Contender):
    key = "keras"
    name = "Keras model.fit (seed code)"
    short = "Keras"
    note = "seed's code; timed fit re-runs model.fit on the same compiled model"
    fit_class = KerasFit

    def available(self):
        return require("keras")

    def predict_calls(self, model):
        return [
            ("Keras model.predict", lambda x: model.predict(x, verbose=0), False),
            ("Keras model(x)", lambda x: np.asarray(model(x)), False),
        ]


CONTENDER = Keras()
