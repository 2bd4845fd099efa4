"""Keras 3 on JAX, default ``model.fit``: the seed's code with ``KERAS_BACKEND=jax``."""

from . import IsolatedContender
from .keras import KerasFit


class KerasJax(IsolatedContender):
    key = "keras_jax"
    name = "Keras model.fit on JAX"
    short = "Keras-JAX"
    note = "KERAS_BACKEND=jax, seed's code (own process); timed fit re-runs model.fit"
    local_fit_class = KerasFit
    requires = ("keras", "jax")

    def environment(self):
        return {"KERAS_BACKEND": "jax"}

    def available(self):
        import keras

        assert keras.backend.backend() == "jax", keras.backend.backend()
        return keras


CONTENDER = KerasJax()
