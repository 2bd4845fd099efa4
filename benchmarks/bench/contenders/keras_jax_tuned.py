"""Keras 3 on JAX with ``steps_per_execution``: a whole epoch's steps per compiled call."""

from .keras import TunedKerasFit
from .keras_jax import KerasJax


class KerasJaxTuned(KerasJax):
    key = "keras_jax_tuned"
    name = "Keras on JAX, tuned"
    short = "Keras-JAX tuned"
    note = "KERAS_BACKEND=jax, steps_per_execution = one epoch's steps (own process)"
    local_fit_class = TunedKerasFit


CONTENDER = KerasJaxTuned()
