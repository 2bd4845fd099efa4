"""The fenced TensorFlow APIs: each does what it says, and its fallback does the same."""

import numpy as np
import pytest
import tensorflow as tf

from kerasreg import DenseRegressor
from kerasreg._compat import tensorflow as tf_compat
from kerasreg._engine import POOL, tuned


def test_the_grappler_switch_is_available():
    # Where this fails, the internal API moved: the engine still trains
    # (Grappler runs as usual), but a first fit is ~0.25 s slower.
    assert tf_compat.grappler_switch_available()


def test_engine_calls_leave_tensorflow_call_options_alone(data):
    # The engine skips Grappler for its own programs only: the caller's call
    # options (what the user's tf.functions run with) are as they were.
    before = tf_compat.function_call_options()
    DenseRegressor(width=3, depth=1, epochs=2, random_state=0).fit(*data)
    assert tf_compat.function_call_options() == before
    with tf_compat.without_grappler():
        inside = tf_compat.function_call_options()
    assert inside != before
    assert tf_compat.function_call_options() == before


def test_same_training_with_or_without_grappler(data):
    X, y = data
    params = dict(width=4, depth=2, epochs=20, random_state=0, early_stopping=False)
    POOL.clear()
    ours = DenseRegressor(**params).fit(X, y).predict(X)
    POOL.clear()
    with tuned(skip_grappler=False):
        default = DenseRegressor(**params).fit(X, y).predict(X)
    POOL.clear()
    np.testing.assert_allclose(ours, default, rtol=1e-6)


@pytest.mark.parametrize(
    "grad, activation, from_input",
    [
        (tf_compat.relu_grad, tf.nn.relu, False),
        (tf_compat.tanh_grad, tf.tanh, False),
        (tf_compat.sigmoid_grad, tf.sigmoid, False),
        (tf_compat.elu_grad, tf.nn.elu, False),
        (tf_compat.selu_grad, tf.nn.selu, False),
        (tf_compat.softplus_grad, tf.nn.softplus, True),
    ],
)
def test_activation_gradient_fallbacks_equal_the_kernels(grad, activation, from_input):
    z = tf.constant(np.linspace(-3, 3, 13, dtype=np.float32))
    g = tf.constant(np.linspace(0.5, 1.5, 13, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(z)
        a = activation(z)
    expected = tape.gradient(a, z, output_gradients=g).numpy()
    arg = z if from_input else a
    kernel = grad(g, arg).numpy()
    with tf_compat.fallbacks():
        fallback = grad(g, arg).numpy()
    np.testing.assert_allclose(kernel, expected, rtol=1e-6)
    np.testing.assert_allclose(fallback, expected, rtol=1e-5, atol=1e-6)


def test_update_fallbacks_equal_the_kernels():
    # One Adam, RMSprop and SGD step by the fused kernels and by the fallbacks.
    grad = tf.constant([0.3, -0.2, 0.1])

    def steps():
        out = []
        var, m, v = (tf.Variable([1.0, 2.0, 3.0]), tf.Variable(tf.zeros(3)),
                     tf.Variable(tf.zeros(3)))  # fmt: skip
        b1, b2 = tf.constant(0.9), tf.constant(0.999)
        tf_compat.apply_adam(var, m, v, b1, b2, 0.01, b1, b2, tf.constant(1e-7), grad)
        out.append(var.numpy())
        var, ms, mom = (tf.Variable([1.0, 2.0, 3.0]), tf.Variable(tf.zeros(3)),
                        tf.Variable(tf.zeros(3)))  # fmt: skip
        tf_compat.apply_rmsprop(var, ms, mom, 0.01, 0.9, tf.constant(1e-7), grad)
        out.append(var.numpy())
        var = tf.Variable([1.0, 2.0, 3.0])
        tf_compat.apply_gradient_descent(var, 0.01, grad)
        out.append(var.numpy())
        return out

    kernels = steps()
    with tf_compat.fallbacks():
        fallbacks = steps()
    for kernel, fallback in zip(kernels, fallbacks):
        np.testing.assert_allclose(fallback, kernel, rtol=1e-6)


def test_stateless_dropout_and_its_fallback_keep_the_rate():
    h, seed = tf.ones([200, 50]), tf.constant([1, 2], tf.int64)
    outputs = [tf_compat.stateless_dropout(h, rate=0.25, seed=seed)]
    with tf_compat.fallbacks():
        outputs.append(tf_compat.stateless_dropout(h, rate=0.25, seed=seed))
    for out in outputs:
        kept = out.numpy() > 0
        assert abs(kept.mean() - 0.75) < 0.02
        np.testing.assert_allclose(out.numpy()[kept], 1 / 0.75)


def test_shared_tensor_shares_memory_without_a_copy():
    from kerasreg._engine.tensors import aligned

    a = aligned((4, 3))
    t = tf_compat.shared_tensor(a)
    a[0, 0] = 7.0
    assert t.numpy()[0, 0] == 7.0


def _traced_names(key):
    """The names of a traced function with a loop inside (as the epochs program has)."""
    fn = tf.function(
        lambda x: tf.while_loop(lambda i: i < x, lambda i: i + 1, [0]), autograph=False
    )
    with tf_compat.stable_names(key):
        concrete = fn.get_concrete_function(tf.TensorSpec([], tf.int32))
    assert int(concrete(tf.constant(3))[0]) == 3
    return [concrete.name.decode()] + sorted(
        f.signature.name for f in concrete.graph.as_graph_def().library.function
    )


def test_stable_names_are_available():
    # Where this fails, TensorFlow's naming functions moved: training is the
    # same, but the XLA cache hits only in the same trace order.
    assert tf_compat._install_namers()


def test_a_trace_names_its_functions_after_its_key_not_a_process_counter():
    key = ("a key no other test uses", 1)
    prefix = tf_compat.stable_names(key).prefix
    first = _traced_names(key)
    assert len(first) == 3  # the function, its loop's condition and body
    assert all(name.endswith(f"_{prefix}x0n{i}") for name, i in zip(first, (3, 2, 1)))
    # The same key traced again in this process: names of their own (a
    # process's function library refuses two functions of one name).
    again = _traced_names(key)
    assert all(f"_{prefix}x1n" in name for name in again)
    assert not set(first) & set(again)
    assert _traced_names(("another key", 1))[0].startswith("__inference_")


def test_other_threads_keep_tensorflows_names():
    import threading

    names = []
    fn = tf.function(lambda x: x + 1, autograph=False)
    with tf_compat.stable_names(("a thread's key", 2)) as stable:
        thread = threading.Thread(
            target=lambda: names.append(fn.get_concrete_function(tf.TensorSpec([])).name.decode())
        )
        thread.start()
        thread.join()
    assert names and stable.prefix not in names[0]
