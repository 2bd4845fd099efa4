"""Keras 3 on TensorFlow, tuned: XLA, ``steps_per_execution``, a cached ``tf.data`` pipeline."""

from .keras import KerasOnBackend, TunedKerasFit


class KerasTfTunedFit(TunedKerasFit):
    """With a cached, shuffled, prefetched tf.data pipeline."""

    dataset = True


class KerasTfTuned(KerasOnBackend):
    key = "keras_tf_tuned"
    name = "Keras on TensorFlow, tuned"
    short = "Keras-TF tuned"
    note = (
        "jit_compile=True, steps_per_execution = one epoch's steps, cached tf.data "
        "(shuffled each epoch, prefetched) (own process)"
    )
    local_fit_class = KerasTfTunedFit
    requires = ("keras", "tensorflow")


CONTENDER = KerasTfTuned()
