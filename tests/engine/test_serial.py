"""A plain graph's small steps at one thread per operation (kerasreg._engine.serial).

The reference is the same program called directly: through the tf.data
iterator it must train exactly as it does without it, bit for bit, on every
path of the step (the written-out backward pass; GradientTape's with dropout
and batch norm; a callback's one-epoch calls).
"""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_weights_equal, train_config

from kerasreg._engine import serial, train, tuned
from kerasreg._network import NetworkSpec, initial_weights


def _fit(spec_kwargs=(), callbacks=(), **changes):
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (12, 12), **dict(spec_kwargs))
    x = rng.rand(80, 3).astype("float32")
    y = x @ np.float32([[0.2], [0.3], [0.5]]) + 0.1 * rng.rand(80, 1).astype("float32")
    ones = np.ones(80, "float32")
    params = dict(learning_rate=0.01, batch_size=8, epochs=12, patience=3, jit_compile=False)
    config = train_config(**{**params, **changes})
    data = (x[:64], y[:64], ones[:64]), (x[64:], y[64:], ones[64:])
    return train(spec, initial_weights(spec, rng), *data, config, callbacks)


@pytest.fixture
def serial_calls(monkeypatch):
    """How many calls ran through a SerialProgram."""
    calls = []
    original = serial.SerialProgram.__call__

    def counted(self, *inputs):
        calls.append(1)
        return original(self, *inputs)

    monkeypatch.setattr(serial.SerialProgram, "__call__", counted)
    return calls


class _Halve(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.set_weights([w * 0.5 for w in self.model.get_weights()])


@pytest.mark.parametrize(
    "case",
    [{}, {"spec_kwargs": {"dropout": 0.2}}, {"spec_kwargs": {"batch_norm": True}},
     {"callbacks": "halve"}, {"optimizer": "sgd"}],
    ids=["adam", "dropout", "batch_norm", "callback", "sgd"],
)  # fmt: skip
def test_one_thread_per_operation_trains_bit_for_bit_as_the_direct_call(case, serial_calls):
    case = dict(case)
    if case.get("callbacks") == "halve":
        case["callbacks"] = [_Halve()]
    with tuned(serial_step_macs=0):
        direct = _fit(**case)
    assert not serial_calls
    one_thread = _fit(**case)
    assert serial_calls  # the default runs this small plain graph serially
    assert_weights_equal(one_thread.weights, direct.weights)
    assert one_thread.history == direct.history
    assert one_thread.best_epoch == direct.best_epoch


def test_only_small_plain_graphs_run_serially(serial_calls):
    # A step of 8 rows x (3*12 + 12*12 + 12) multiply-adds = 1,536.
    with tuned(serial_step_macs=1536):
        _fit()
    assert serial_calls
    serial_calls.clear()
    with tuned(serial_step_macs=1535):
        _fit()
    assert not serial_calls
    _fit(jit_compile=True)  # XLA: its own threads, as compiled
    assert not serial_calls


def test_a_call_interrupted_after_its_inputs_were_queued_does_not_block_the_next():
    # Ctrl-C between queueing the inputs and taking the result leaves them
    # queued: without a fresh queue, the next call would wait forever on the
    # full queue.
    double = tf.function(lambda x: [x * 2.0], autograph=False).get_concrete_function(
        tf.TensorSpec([None])
    )
    prog = serial.SerialProgram(double, [tf.TensorSpec([None])])
    assert prog(tf.constant([1.0]))[0].numpy().tolist() == [2.0]

    class Interrupted:
        def __next__(self):
            raise KeyboardInterrupt

    prog._iterator = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        prog(tf.constant([2.0]))
    out = []
    call = threading.Thread(target=lambda: out.append(prog(tf.constant([3.0]))), daemon=True)
    call.start()
    call.join(timeout=60)
    assert not call.is_alive(), "the call after an interrupted one blocked"
    assert out[0][0].numpy().tolist() == [6.0]


def test_an_error_in_the_program_reaches_the_caller_and_the_next_call_works():
    def checked(x):
        tf.debugging.assert_non_negative(x, message="negative input")
        return [x + 1.0]

    fn = tf.function(checked, autograph=False).get_concrete_function(tf.TensorSpec([None]))
    prog = serial.SerialProgram(fn, [tf.TensorSpec([None])])
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative input"):
        prog(tf.constant([-1.0]))
    assert prog(tf.constant([1.0]))[0].numpy().tolist() == [2.0]
