"""The training engine: compiled once per architecture, bounded, Keras-faithful."""

import os

import numpy as np
import pytest
from sklearn.datasets import make_regression

from kerasreg import DenseRegressor, _engine


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=90, n_features=3, noise=0.1, random_state=1)


@pytest.fixture(autouse=True)
def no_address_space_limit(monkeypatch):
    # These tests expect jit_compile="auto"'s choice of XLA, which a runner's
    # `ulimit -v` would turn off.
    monkeypatch.setattr(_engine, "_address_space_limited", lambda: False)


def _workspace(depth, optimizer="adam", loss="mae"):
    for (structure, opt, lss, _xla), ws in reversed(_engine.POOL._idle.items()):
        if structure.depth == depth and (opt, lss) == (optimizer, loss):
            return ws
    return None


_EPOCH_FN = _engine._Workspace.epoch_fn


def _after_each_call(monkeypatch, hook):
    """Call hook(inputs, outputs) after every epochs call (it may raise Ctrl-C)."""

    def epoch_fn(self):
        fn = _EPOCH_FN(self)

        def run(*inputs):
            outputs = fn(*inputs)
            hook(inputs, outputs)
            return outputs

        return run

    monkeypatch.setattr(_engine._Workspace, "epoch_fn", epoch_fn)


def test_same_structure_never_traces_again(data):
    X, y = data
    # Folds of different sizes, learning rates, seeds, widths, batch sizes and
    # numbers of features: one traced program for networks of depth 2.
    _engine.POOL.clear()
    for i, lr in enumerate([0.01, 0.001, 0.05]):
        rows = slice(i * 2, 90 - i * 2)
        for width, batch_size, features in [(7, 16, 3), (5, 64, 3), (7, 16, 2)]:
            reg = DenseRegressor(
                width=width, depth=2, epochs=3, learning_rate=lr, batch_size=batch_size,
                random_state=i,
            ).fit(X[rows, :features], y[rows])  # fmt: skip
            assert reg.model_.layers[0].kernel.shape == (features, width)
    assert len(_engine.POOL._idle) == 1
    assert _workspace(2).run_epochs.experimental_get_tracing_count() == 1


def test_networks_sharing_a_workspace_train_as_if_alone(data):
    # A workspace's variables take each network's shapes in turn; what ran
    # before leaves no trace in the next fit.
    X, y = data
    params = dict(depth=1, epochs=5, batch_size=16, random_state=0, early_stopping=False)
    _engine.POOL.clear()
    alone = DenseRegressor(width=6, **params).fit(X, y).predict(X)
    DenseRegressor(width=9, **params).fit(X[:50, :2], y[:50])
    after = DenseRegressor(width=6, **params).fit(X, y).predict(X)
    np.testing.assert_array_equal(alone, after)
    assert len(_engine.POOL._idle) == 1


def test_cache_is_bounded(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(_engine.POOL, "max_idle", 3)
    for depth in range(6):
        DenseRegressor(width=2, depth=depth, epochs=1).fit(X, y)
    assert len(_engine.POOL._idle) == 3


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
def test_update_rules_match_keras_optimizers(optimizer):
    # One full-batch step of each update rule against Keras's own optimizer.
    import keras
    import tensorflow as tf

    from kerasreg._network import NetworkSpec, build_model, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,))
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    result = _engine.train(
        spec, weights, (x, y, np.ones(8, "float32")), optimizer=optimizer,
        learning_rate=0.01, batch_size=8, epochs=2, shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    opt = _engine.OPTIMIZERS[optimizer](learning_rate=0.01)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = keras.losses.mean_absolute_error(y, model(x))
            loss = tf.reduce_mean(loss)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))  # fmt: skip
    for ours, theirs in zip(result.weights, model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["mae", "mse", "huber"])
@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish", "linear"]
)
def test_written_out_gradients_match_keras(activation, loss):
    # The engine's backward pass is written out (not GradientTape's): one SGD
    # step on two hidden layers, two outputs and uneven sample weights moves
    # the weights as the gradient of Keras's model and loss does.
    import keras
    import tensorflow as tf

    from kerasreg._network import NetworkSpec, build_model, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 2, (5, 4), activation=activation)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), 2 * rng.rand(8, 2).astype("float32")
    w = rng.rand(8).astype("float32")
    result = _engine.train(
        spec, weights, (x, y, w), optimizer="sgd", loss=loss, learning_rate=0.5,
        batch_size=8, epochs=1, shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    per_row = {
        "mae": keras.losses.mean_absolute_error,
        "mse": keras.losses.mean_squared_error,
        "huber": keras.losses.huber,
    }[loss]
    with tf.GradientTape() as tape:
        mean = tf.reduce_sum(per_row(y, model(x)) * w) / np.sum(w)
    grads = tape.gradient(mean, model.trainable_variables)
    for ours, start, grad in zip(result.weights, weights, grads):
        np.testing.assert_allclose(ours, start - 0.5 * grad.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_statistics_match_keras():
    # The first step's batch statistics update the moving mean and variance
    # exactly as keras.layers.BatchNormalization(training=True) does.
    from kerasreg._network import NetworkSpec, build_model, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,), batch_norm=True)
    weights = initial_weights(spec, rng)
    x, y = rng.rand(8, 3).astype("float32"), rng.rand(8, 1).astype("float32")
    result = _engine.train(
        spec, weights, (x, y, np.ones(8, "float32")), batch_size=8, epochs=1,
        shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    model(x, training=True)
    for index in (4, 5):  # moving_mean, moving_variance
        np.testing.assert_allclose(result.weights[index], model.get_weights()[index], rtol=1e-6)


def test_graph_mode_after_the_xla_budget(data, monkeypatch):
    # Past the XLA budget, workspaces run the same epoch without XLA: same
    # results up to rounding, and nothing compiled that the process keeps.
    X, y = data
    # 90 rows in batches of 4: enough steps per epoch for XLA.
    params = dict(width=3, depth=1, epochs=3, batch_size=4, random_state=0, early_stopping=False)
    with_xla = DenseRegressor(**params).fit(X, y).predict(X)
    assert _workspace(1).run_epochs._jit_compile is True
    _engine.POOL.clear()
    monkeypatch.setattr(_engine, "_XLA_PROGRAMS", 0)
    monkeypatch.setattr(_engine, "_xla_programs", set())
    without = DenseRegressor(**params).fit(X, y).predict(X)
    assert _workspace(1).run_epochs._jit_compile is False
    np.testing.assert_allclose(without, with_xla, rtol=1e-4, atol=1e-4)
    _engine.POOL.clear()


# Batches of 64 (2 steps an epoch) and of 4 (23 steps): what runs each.
@pytest.mark.parametrize(
    "jit_compile, xla", [("auto", (False, True)), (True, (True, True)), (False, (False, False))]
)
def test_xla_only_where_it_pays_or_where_asked(data, jit_compile, xla):
    # XLA compiles for ~1 s; a plain graph traces in ~0.2 s and runs a few
    # large steps about as fast. The choice is the fit's own, not the
    # process's; jit_compile True or False overrides it, as in Keras's compile().
    from kerasreg._network import NetworkSpec

    small, large = NetworkSpec(11, 1, (64, 64)), NetworkSpec(11, 1, (512, 512, 512))
    assert not _engine.use_xla(small, steps_per_epoch=5)
    assert _engine.use_xla(small, steps_per_epoch=35)
    assert _engine.use_xla(large, steps_per_epoch=5)
    assert _engine.use_xla(small, 5, np.True_) and not _engine.use_xla(large, 5, np.False_)
    X, y = data
    _engine.POOL.clear()
    for batch_size, expected in zip((64, 4), xla):
        DenseRegressor(width=5, depth=1, epochs=2, batch_size=batch_size,
                       jit_compile=jit_compile).fit(X, y)  # fmt: skip
        ws = _engine.POOL._idle[next(reversed(_engine.POOL._idle))]
        assert ws.run_epochs._jit_compile is expected


def test_xla_budget_binds_auto_only(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(_engine, "_XLA_PROGRAMS", 0)
    monkeypatch.setattr(_engine, "_xla_programs", set())
    for jit_compile, expected in (("auto", False), (np.True_, True)):
        _engine.POOL.clear()
        reg = DenseRegressor(width=5, depth=1, epochs=2, batch_size=4, jit_compile=jit_compile)
        reg.fit(X, y)
        assert _workspace(1).run_epochs._jit_compile is expected
    _engine.POOL.clear()


_UNDER_A_LIMIT = """
import resource, sys
import numpy as np
resource.setrlimit(resource.RLIMIT_AS, (3_000_000_000, resource.RLIM_INFINITY))
from kerasreg import DenseRegressor, _engine
rng = np.random.RandomState(0)
X = rng.rand(1000, 20)
# 63 mini-batches an epoch: XLA where memory is not limited.
reg = DenseRegressor(width=32, depth=2, batch_size=16, epochs=2, random_state=0)
reg.fit(X, X.sum(1))
print("xla", [key[3] for key in _engine.POOL._idle])
"""


@pytest.mark.integration
def test_a_fit_under_an_address_space_limit_does_not_abort(tmp_path):
    # XLA's compiler fails to start its threads under `prlimit --as=3000000000`
    # and aborts the process (SIGABRT); "auto" trains a plain graph there.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _UNDER_A_LIMIT], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "xla [False]" in result.stdout


def _train_recording(stop_at=None, where="end", **kwargs):
    """Train a small network, recording the live weights after every epoch."""
    import keras

    from kerasreg._network import NetworkSpec, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (6,))
    x = rng.rand(64, 3).astype("float32")
    y = x @ np.float32([[0.2], [0.3], [0.5]]) + 0.1 * rng.rand(64, 1).astype("float32")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if where == "begin" and epoch == stop_at:
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())
            if where == "end" and epoch == stop_at:
                raise KeyboardInterrupt

    ones = np.ones(64, "float32")
    settings = dict(learning_rate=0.05, batch_size=16, epochs=40, patience=3, min_delta=0.0)
    settings.update(kwargs)
    result = _engine.train(
        spec, initial_weights(spec, rng), (x[:48], y[:48], ones[:48]),
        (x[48:], y[48:], ones[48:]), callbacks=[Record()], **settings,
    )  # fmt: skip
    return result, seen


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_returns_the_best_or_the_last_epoch(restore):
    result, seen = _train_recording(restore_best_weights=restore)
    assert result.stop_reason == "early_stopping"
    expected = seen[result.best_epoch - 1] if restore else seen[-1]
    _assert_weights_equal(result.weights, expected)
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
        _assert_weights_equal(result.weights, seen[result.best_epoch - 1])


def test_interrupt_inside_an_epoch_call_keeps_that_epoch(monkeypatch):
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

        _after_each_call(monkeypatch, interrupt)
        result, _ = _train_recording(patience=100)
        assert result.stop_reason == "interrupted" and len(result.history) == stop_at + 1
        _assert_weights_equal(result.weights, seen[result.best_epoch - 1])
        last_best += result.best_epoch == stop_at + 1
    # The case that matters: the interrupted call's epoch was the best.
    assert last_best


def _train_small(epochs=150, callbacks=(), batch_size=16, **kwargs):
    from kerasreg._network import NetworkSpec, initial_weights

    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (6,))
    x = rng.rand(64, 3).astype("float32")
    y = x @ np.float32([[0.2], [0.3], [0.5]]) + 0.1 * rng.rand(64, 1).astype("float32")
    ones = np.ones(64, "float32")
    settings = dict(learning_rate=0.01, batch_size=batch_size, epochs=epochs, patience=15)
    settings.update(kwargs)
    return _engine.train(
        spec, initial_weights(spec, rng), (x[:48], y[:48], ones[:48]),
        (x[48:], y[48:], ones[48:]), callbacks=callbacks, **settings,
    )  # fmt: skip


# A plain graph; XLA (24 steps per epoch). Both stop after 64 epochs.
@pytest.mark.parametrize("batch_size, learning_rate", [(16, 0.003), (2, 0.01)])
def test_many_epochs_per_call_train_exactly_like_one(batch_size, learning_rate, monkeypatch):
    # Without callbacks a call runs up to 64 epochs, early stopping inside
    # the program; with one, a call per epoch. Same weights, same history.
    import keras

    monkeypatch.setattr(_engine, "_CHUNK_SECONDS", 1e9)  # always the longest chunk
    settings = dict(
        epochs=300, batch_size=batch_size, learning_rate=learning_rate, min_delta=1e-5, patience=30
    )
    chunked = _train_small(**settings)
    one_by_one = _train_small(**settings, callbacks=[keras.callbacks.Callback()])
    assert chunked.stop_reason == one_by_one.stop_reason == "early_stopping"
    assert 64 < len(chunked.history) < 300  # stopped in the middle of a later chunk
    assert chunked.history == one_by_one.history
    assert chunked.best_epoch == one_by_one.best_epoch
    _assert_weights_equal(chunked.weights, one_by_one.weights)


def test_interrupt_inside_a_many_epoch_call_keeps_its_epochs(monkeypatch):
    # Ctrl-C as a call of many epochs returns: every epoch it ran is kept,
    # and the weights are the best of them, as in a run of that many epochs.
    monkeypatch.setattr(_engine, "_CHUNK_SECONDS", 1e9)
    full = _train_small(epochs=100, early_stopping=True, patience=1000)
    ran = []  # epochs per call: the first call's one epoch, or 64 if timed before

    def interrupt_second_call(inputs, outputs):
        ran.append(int(outputs[1][0]))
        if len(ran) == 2:
            raise KeyboardInterrupt

    _after_each_call(monkeypatch, interrupt_second_call)
    result = _train_small(epochs=100, early_stopping=True, patience=1000)
    assert result.stop_reason == "interrupted"
    assert ran[1] > 1 and result.history == full.history[: sum(ran)]
    monkeypatch.undo()
    shorter = _train_small(epochs=sum(ran), early_stopping=True, patience=1000)
    assert result.best_epoch == shorter.best_epoch
    _assert_weights_equal(result.weights, shorter.weights)


@pytest.mark.parametrize("xla", [False, True])
def test_epochs_with_a_partial_last_batch_train_as_keras_fit(xla, monkeypatch):
    # 10 rows in batches of 4: batches of 4, 4 and 2 rows, each an Adam step
    # on its rows' mean loss, and the validation loss over all 5 rows: what
    # Keras's model.fit(shuffle=False) does. A plain graph runs the last batch
    # at its size, XLA padded with rows of weight 0; the same steps.
    import keras

    from kerasreg._network import NetworkSpec, build_model, initial_weights

    monkeypatch.setattr(_engine, "_XLA_MIN_STEPS", 1 if xla else 10**9)
    rng = np.random.RandomState(0)
    spec = NetworkSpec(3, 1, (5,))
    weights = initial_weights(spec, rng)
    x, y = rng.rand(15, 3).astype("float32"), rng.rand(15, 1).astype("float32")
    ones = np.ones(15, "float32")
    result = _engine.train(
        spec, weights, (x[:10], y[:10], ones[:10]), (x[10:], y[10:], ones[10:]),
        learning_rate=0.01, batch_size=4, epochs=2, shuffle=False, early_stopping=False,
    )  # fmt: skip
    model = build_model(spec, weights)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mae")
    fitted = model.fit(
        x[:10], y[:10], batch_size=4, epochs=2, shuffle=False,
        validation_data=(x[10:], y[10:]), verbose=0,
    )  # fmt: skip
    for ours, theirs in zip(result.weights, model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    val_loss = [v for _, v in result.history]
    np.testing.assert_allclose(val_loss, fitted.history["val_loss"], rtol=1e-5)


def test_a_repeated_fit_runs_its_epochs_in_one_call(monkeypatch):
    # The first fit of a network, data size and batch size runs one epoch in
    # its first call (which may compile) and times it; a repeated fit knows
    # the epoch's time and runs a whole chunk of epochs per call from the
    # start: one call for 5 epochs, the same training. Every call passes
    # inputs of the same shapes, whatever its number of epochs: XLA (batches
    # of 2: 24 steps an epoch) compiles once per input shape.
    monkeypatch.setattr(_engine, "_CHUNK_SECONDS", 10.0)
    ran, shapes = [], set()

    def record(inputs, outputs):
        ran.append(int(outputs[1][0]))
        shapes.add(tuple(tuple(t.shape) for t in inputs))

    _after_each_call(monkeypatch, record)
    first = _train_small(epochs=5, batch_size=2, early_stopping=False)
    del ran[:]
    again = _train_small(epochs=5, batch_size=2, early_stopping=False)
    assert ran == [5]
    assert len(shapes) == 1
    assert again.history == first.history
    _assert_weights_equal(again.weights, first.weights)


def test_engine_calls_leave_tensorflow_call_options_alone(data):
    # The engine skips Grappler for its own programs only: the caller's call
    # options (what the user's tf.functions run with) are as they were.
    from tensorflow.python.eager import context

    assert _engine._CALL_OPTIONS is not None, "the internal API moved: Grappler runs again"
    before = context.context().function_call_options.config_proto_serialized
    X, y = data
    DenseRegressor(width=3, depth=1, epochs=2, random_state=0).fit(X, y)
    assert context.context().function_call_options.config_proto_serialized == before
    with _engine._calls():
        inside = context.context().function_call_options.config_proto_serialized
    assert inside != before
    assert context.context().function_call_options.config_proto_serialized == before


def test_same_training_with_or_without_grappler(data, monkeypatch):
    # Where TensorFlow's internal call options are unavailable, Grappler runs
    # as usual; training is the same.
    X, y = data
    params = dict(width=4, depth=2, epochs=20, random_state=0, early_stopping=False)
    ours = DenseRegressor(**params).fit(X, y).predict(X)
    _engine.POOL.clear()
    monkeypatch.setattr(_engine, "_CALL_OPTIONS", None)
    default = DenseRegressor(**params).fit(X, y).predict(X)
    _engine.POOL.clear()
    np.testing.assert_allclose(ours, default, rtol=1e-6)
