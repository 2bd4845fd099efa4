"""Keras 3 on TensorFlow, tuned: XLA, ``steps_per_execution``, a cached ``tf.data`` pipeline."""

from . import IsolatedContender
from .keras import TunedKerasFit


class KerasTfTunedFit(TunedKerasFit):
    jit_compile = True
    dataset = True


class KerasTfTuned(IsolatedContender):
    key = "keras_tf_tuned"
    name = "Keras on TensorFlow, tuned"
    short = "Keras-TF tuned"
    note = (
        "jit_compile=True, steps_per_execution = one epoch's steps, cached tf.data "
        "(shuffled each epoch, prefetched) (own process)"
    )
    local_fit_class = KerasTfTunedFit
    requires = ("keras", "tensorflow")

    def environment(self):
        return {"KERAS_BACKEND": "tensorflow"}

    def available(self):
        import keras

        assert keras.backend.backend() == "tensorflow", keras.backend.backend()
        return keras


CONTENDER = KerasTfTuned()
