"""Keras 3 on JAX, default ``model.fit``: the seed's code with ``KERAS_BACKEND=jax``."""

from .keras import KerasFit, KerasOnBackend


class KerasJax(KerasOnBackend):
    key = "keras_jax"
    name = "Keras model.fit on JAX"
    short = "Keras-JAX"
    note = "KERAS_BACKEND=jax, seed's code (own process); timed fit re-runs model.fit"
    local_fit_class = KerasFit
    requires = ("keras", "jax")
    backend = "jax"


CONTENDER = KerasJax()
