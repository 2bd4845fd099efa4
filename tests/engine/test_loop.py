"""The training loop: early stopping's weights, Ctrl-C at any point, epochs grouped per call."""

import keras
import numpy as np
import pytest
from helpers import assert_weights_equal, train_config

from kerasreg._engine import train, tuned
from kerasreg._network import NetworkSpec, initial_weights


def _problem():
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (6,))
    x = rng.rand(64, 3).astype("float32")
    y = x @ np.float32([[0.2], [0.3], [0.5]]) + 0.1 * rng.rand(64, 1).astype("float32")
    ones = np.ones(64, "float32")
    data = (x[:48], y[:48], ones[:48]), (x[48:], y[48:], ones[48:])
    return spec, initial_weights(spec, rng), data


def _train_recording(stop_at=None, where="end", **changes):
    """Train a small network, recording the live weights after every epoch."""
    spec, weights, (train_data, val_data) = _problem()
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if where == "begin" and epoch == stop_at:
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())
            if where == "end" and epoch == stop_at:
                raise KeyboardInterrupt

    params = dict(learning_rate=0.05, batch_size=16, epochs=40, patience=3, min_delta=0.0)
    config = train_config(**{**params, **changes})
    return train(spec, weights, train_data, val_data, config, [Record()]), seen


def _train_small(epochs=150, callbacks=(), batch_size=16, **changes):
    spec, weights, (train_data, val_data) = _problem()
    params = dict(learning_rate=0.01, batch_size=batch_size, epochs=epochs, patience=15)
    config = train_config(**{**params, **changes})
    return train(spec, weights, train_data, val_data, config, callbacks)


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_returns_the_best_or_the_last_epoch(restore):
    result, seen = _train_recording(restore_best_weights=restore)
    assert result.stop_reason == "early_stopping"
    expected = seen[result.best_epoch - 1] if restore else seen[-1]
    assert_weights_equal(result.weights, expected)
    if restore:
        assert result.best_epoch < len(seen)


@pytest.mark.parametrize("where", ["begin", "end"])
def test_interrupt_returns_the_best_recorded_epoch(where):
    # Ctrl-C before an epoch runs or after it is recorded: the best of the
    # recorded epochs comes back, whichever epoch it was.
    for stop_at in (1, 2, 5):
        result, seen = _train_recording(stop_at=stop_at, where=where, patience=100)
        assert result.stop_reason == "interrupted"
        assert len(result.history) == (stop_at if where == "begin" else stop_at + 1)
        assert_weights_equal(result.weights, seen[result.best_epoch - 1])


def test_interrupt_inside_an_epoch_call_keeps_that_epoch():
    # Ctrl-C arriving as an epoch call returns, before Python sees its
    # result: the epoch ran, so it is kept in the history, and the best epoch
    # (that one or an earlier one) comes back, as in an uninterrupted run.
    _, seen = _train_recording(patience=100)
    last_best = 0
    for stop_at in (2, 3, 4, 5):

        def interrupt(inputs, outputs, calls=[], stop_at=stop_at):  # noqa: B006
            calls.append(1)
            if len(calls) == stop_at + 1:
                raise KeyboardInterrupt

        with tuned(after_call=interrupt):
            result, _ = _train_recording(patience=100)
        assert result.stop_reason == "interrupted" and len(result.history) == stop_at + 1
        assert_weights_equal(result.weights, seen[result.best_epoch - 1])
        last_best += result.best_epoch == stop_at + 1
    # The case that matters: the interrupted call's epoch was the best.
    assert last_best


# A plain graph; XLA (24 steps per epoch). Both stop after 64 epochs.
@pytest.mark.parametrize("batch_size, learning_rate", [(16, 0.003), (2, 0.01)])
def test_many_epochs_per_call_train_exactly_like_one(batch_size, learning_rate):
    # Without callbacks a call runs up to 64 epochs, early stopping inside
    # the program; with one, a call per epoch. Same weights, same history.
    params = dict(
        epochs=300, batch_size=batch_size, learning_rate=learning_rate, min_delta=1e-5, patience=30
    )
    with tuned(seconds_per_call=1e9):  # always the longest group of epochs
        chunked = _train_small(**params)
        one_by_one = _train_small(**params, callbacks=[keras.callbacks.Callback()])
    assert chunked.stop_reason == one_by_one.stop_reason == "early_stopping"
    assert 64 < len(chunked.history) < 300  # stopped in the middle of a later call
    assert chunked.history == one_by_one.history
    assert chunked.best_epoch == one_by_one.best_epoch
    assert_weights_equal(chunked.weights, one_by_one.weights)


def test_interrupt_inside_a_many_epoch_call_keeps_its_epochs():
    # Ctrl-C as a call of many epochs returns: every epoch it ran is kept,
    # and the weights are the best of them, as in a run of that many epochs.
    params = dict(epochs=100, early_stopping=True, patience=1000)
    ran = []  # epochs per call: the first call's one epoch, or 64 if timed before

    def interrupt_second_call(inputs, outputs):
        ran.append(int(outputs[1][0]))
        if len(ran) == 2:
            raise KeyboardInterrupt

    with tuned(seconds_per_call=1e9):
        full = _train_small(**params)
        with tuned(after_call=interrupt_second_call):
            result = _train_small(**params)
    assert result.stop_reason == "interrupted"
    assert ran[1] > 1 and result.history == full.history[: sum(ran)]
    shorter = _train_small(**{**params, "epochs": sum(ran)})
    assert result.best_epoch == shorter.best_epoch
    assert_weights_equal(result.weights, shorter.weights)


def test_a_repeated_fit_runs_its_epochs_in_one_call():
    # The first fit of a network, data size and batch size runs one epoch in
    # its first call (which may compile) and times it; a repeated fit knows
    # the epoch's time and runs a whole group of epochs per call from the
    # start: one call for 5 epochs, the same training. Every call passes
    # inputs of the same shapes, whatever its number of epochs: XLA (batches
    # of 2: 24 steps an epoch) compiles once per input shape.
    ran, shapes = [], set()

    def record(inputs, outputs):
        ran.append(int(outputs[1][0]))
        shapes.add(tuple(tuple(t.shape) for t in inputs))

    with tuned(seconds_per_call=10.0, after_call=record, xla_min_fit_steps=1):
        first = _train_small(epochs=5, batch_size=2, early_stopping=False)
        del ran[:]
        again = _train_small(epochs=5, batch_size=2, early_stopping=False)
    assert ran == [5]
    assert len(shapes) == 1
    assert again.history == first.history
    assert_weights_equal(again.weights, first.weights)


def test_a_learning_rate_schedule_sets_the_rate_trained_with():
    # Keras's LearningRateScheduler sets the callback model's optimizer's
    # rate; the epochs train with it: a rate of 0 from epoch 3 on freezes
    # the weights.
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())

    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 if epoch < 2 else 0.0)
    _train_small(epochs=5, early_stopping=False, callbacks=[schedule, Record()])
    assert not np.array_equal(seen[0][0], seen[1][0])
    for later in seen[3:]:
        assert_weights_equal(later, seen[2])


def test_padded_rows_are_shared_with_the_program_and_train_as_arrays_do():
    from kerasreg._engine import PaddedRows, aligned, batch_and_rows, val_rows
    from kerasreg._engine.tensors import padded

    # Laid out for the size asked: the tensor is the array's memory.
    array = aligned((64, 3))
    (tensor,) = padded([PaddedRows(array, 10)], 64)
    array[20] = 5.0
    assert tensor.numpy()[20, 0] == 5.0
    # For another size: copied, the real rows only.
    array[:10], array[40] = 1.0, 9.0
    (tensor,) = padded([PaddedRows(array, 10)], 128)
    assert tensor.shape == (128, 3) and tensor.numpy()[:10].min() == 1.0
    assert not tensor.numpy()[10:].any()

    spec, weights, (train_data, val_data) = _problem()
    config = train_config(learning_rate=0.05, batch_size=16, epochs=5, early_stopping=False)

    def laid_out(data, rows):
        out = []
        for a in data:
            p = PaddedRows(aligned((rows, *a.shape[1:])), len(a))
            p.rows[:] = a
            out.append(p)
        return tuple(out)

    rows = batch_and_rows(len(train_data[0]), config.batch_size)[1]
    given = train(
        spec, weights, laid_out(train_data, rows),
        laid_out(val_data, val_rows(len(val_data[0]))), config,
    )  # fmt: skip
    copied = train(spec, weights, train_data, val_data, config)
    assert given.history == copied.history
    assert_weights_equal(given.weights, copied.weights)
