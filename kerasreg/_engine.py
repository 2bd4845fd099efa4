"""The training engine: whole epochs in one compiled TensorFlow call.

Keras's ``model.fit`` returns to Python after every mini-batch; on tabular data
that overhead costs more than the arithmetic. Here one ``tf.function`` runs
epochs: each epoch's mini-batch updates in its shuffled order, the validation
loss and early stopping's bookkeeping. Without callbacks one call runs many
epochs; with callbacks one, so that they see each epoch. Python draws the
shuffles and records the history.

Traced programs are cached per network structure (a "workspace": variables
of no fixed shape and the epochs program traced once for any shapes): the
depth, activation, dropout and batch normalisation, not the widths, the number
of features or the batch size. So the folds of a cross-validation and the
candidates of a grid search over widths and batch sizes never trace again; XLA,
where it is used, still compiles once per shape. The cache is small and
bounded; a workspace in use is checked out of it, so concurrent fits never
share variables.

This module knows nothing of scikit-learn: it takes float32 arrays and a
:class:`~kerasreg._network.NetworkSpec` and returns weights and a history.
"""

import collections
import math
import os
import threading
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from ._early_stopping import update as early_stopping_update
from ._fork import check_not_forked
from ._network import BATCH_NORM_EPSILON, build_model


def _size_thread_pools():
    """Give TensorFlow the thread count the process was given, if any.

    joblib's process workers (``n_jobs>1``, loky) set ``OMP_NUM_THREADS`` to
    cores // n_jobs so that workers don't oversubscribe the cores; TensorFlow
    ignores that variable and would use every core in every worker.
    ``KERASREG_NUM_THREADS`` overrides it. Nothing changes when neither is
    set, or when TensorFlow was already started by the user.
    """
    n = os.environ.get("KERASREG_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if not n or not n.isdigit() or int(n) < 1:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(n))
        tf.config.threading.set_inter_op_parallelism_threads(int(n))
    except RuntimeError:
        pass  # TensorFlow is running already: its settings are the user's.


_size_thread_pools()


def _without_grappler_options():
    """Function-call options that skip Grappler's rewrites, or None.

    TensorFlow rewrites each graph with Grappler on its first call: ~0.25 s
    for an epoch program here, a third of a plain graph's first fit, for no
    measurable gain in these small programs (their steady epochs run as fast
    without it). TensorFlow has no public switch for one function, only the
    process-wide ``tf.config.optimizer``; the call options are the eager
    context's, per thread, so the engine sets them around its own calls
    only (see _calls). Where that internal module differs, it returns None
    and Grappler runs as usual.
    """
    try:
        from tensorflow.core.protobuf import config_pb2
        from tensorflow.python.eager import context

        ctx = context.context()
        current = ctx.function_call_options
        config = config_pb2.ConfigProto.FromString(current.config_proto_serialized)
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        options = context.FunctionCallOptions(current.executor_type, config)
        return ctx, options
    except Exception:  # noqa: BLE001 - an internal API: fall back to the default
        return None


_CALL_OPTIONS = _without_grappler_options()


class _calls:
    """Run the engine's TensorFlow calls with its own call options."""

    def __enter__(self):
        if _CALL_OPTIONS is not None:
            ctx, options = _CALL_OPTIONS
            self.saved = ctx.function_call_options
            ctx.function_call_options = options

    def __exit__(self, *exc):
        if _CALL_OPTIONS is not None:
            _CALL_OPTIONS[0].function_call_options = self.saved


OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}

# Slot variables (state per trained variable) each update rule needs.
_SLOTS = {"adam": 2, "adamw": 2, "sgd": 0, "rmsprop": 2}

_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "elu": tf.nn.elu,
    "selu": tf.nn.selu,
    "softplus": tf.nn.softplus,
    "swish": tf.nn.silu,
    "linear": tf.identity,
}


def _mae(y, p):
    return tf.reduce_mean(tf.abs(y - p), axis=-1)


def _mse(y, p):
    return tf.reduce_mean(tf.square(y - p), axis=-1)


def _huber(y, p, delta=1.0):
    # Keras's Huber loss with its default delta.
    err = tf.abs(y - p)
    quadratic = tf.minimum(err, delta)
    return tf.reduce_mean(0.5 * quadratic**2 + delta * (err - quadratic), axis=-1)


#: Per-row losses, averaged over the outputs, by their Keras names.
LOSSES = {"mae": _mae, "mse": _mse, "huber": _huber}

# The losses' derivatives with respect to the prediction, as functions of
# error = prediction - target, per output (before the mean over outputs).
LOSS_DERIVATIVES = {
    "mae": tf.sign,
    "mse": lambda error: 2.0 * error,
    "huber": lambda error: tf.clip_by_value(error, -1.0, 1.0),
}

# The activations' backward passes: (upstream gradient, pre-activation z,
# activation a) -> gradient with respect to z, with the kernels TensorFlow's
# own gradients use.
ACTIVATION_GRADIENTS = {
    "relu": lambda g, z, a: tf.raw_ops.ReluGrad(gradients=g, features=a),
    "tanh": lambda g, z, a: tf.raw_ops.TanhGrad(y=a, dy=g),
    "sigmoid": lambda g, z, a: tf.raw_ops.SigmoidGrad(y=a, dy=g),
    "elu": lambda g, z, a: tf.raw_ops.EluGrad(gradients=g, outputs=a),
    "selu": lambda g, z, a: tf.raw_ops.SeluGrad(gradients=g, outputs=a),
    "softplus": lambda g, z, a: tf.raw_ops.SoftplusGrad(gradients=g, features=z),
    "swish": lambda g, z, a: g * (tf.sigmoid(z) * (1.0 + z * (1.0 - tf.sigmoid(z)))),
    "linear": lambda g, z, a: g,
}

# Validation rows are evaluated this many at a time, to bound memory.
_EVAL_CHUNK = 4096

# Training data are padded to at least this many rows (validation data to
# _MIN_VAL_BUCKET), so that small data sets of any size share one program.
_MIN_BUCKET = 1024
_MIN_VAL_BUCKET = 256

# Keras's BatchNormalization default momentum for the moving statistics.
_BN_MOMENTUM = 0.99

# Without callbacks, one call runs several epochs (the Python loop around
# each call costs as much as a small network's epoch): at most _MAX_CHUNK
# epochs and _CHUNK_ORDER_ROWS rows of shuffled order per call, and about
# _CHUNK_SECONDS of work, so that Ctrl-C is answered promptly.
_MAX_CHUNK = 64
_CHUNK_ORDER_ROWS = 1 << 18
_CHUNK_SECONDS = 0.2


def _chunk(per_epoch, max_chunk):
    """Epochs for a call of about _CHUNK_SECONDS, given an epoch's seconds."""
    return max(1, min(max_chunk, int(_CHUNK_SECONDS / per_epoch)))


# Epoch times a workspace remembers (by network, data and batch size), so that
# a repeated fit's first call runs a whole chunk: a call costs ~0.5 ms beyond
# its epochs, as much as a small network's epoch.
_TIMED_SIGNATURES = 64

# Why a call of run_epochs returned.
_RUNNING, _EARLY_STOP, _NOT_FINITE = 0, 1, 2


class Structure(tuple):
    """What a traced epochs program depends on: a network's structure, not its sizes.

    ``(depth, activation, dropout, batch_norm)``: the widths, the numbers of
    features and outputs, the data's size and the batch size are shapes the
    program takes at run time.
    """

    __slots__ = ()

    def __new__(cls, spec):
        return super().__new__(
            cls, (len(spec.hidden_layer_sizes), spec.activation, spec.dropout, spec.batch_norm)
        )

    depth = property(lambda self: self[0])
    activation = property(lambda self: self[1])
    dropout = property(lambda self: self[2])
    batch_norm = property(lambda self: self[3])


def _vector():
    return tf.Variable(tf.zeros([0]), shape=tf.TensorShape([None]), trainable=False)


def _matrix():
    return tf.Variable(tf.zeros([0, 0]), shape=tf.TensorShape([None, None]), trainable=False)


def _like(v):
    """A new variable of no fixed shape, of the same rank as v."""
    return _matrix() if len(v.shape) == 2 else _vector()


class _Workspace:
    """Variables of no fixed shape, an optimizer and the traced epochs program.

    The training step is written with TensorFlow ops on the workspace's own
    variables, rather than through Keras layers and optimizers: the same
    arithmetic as Keras's ``Dense``, ``Dropout``, ``BatchNormalization`` and
    optimizers (their hyper-parameters are read from the Keras optimizer), in
    about a third of the graph operations, which is what a small network's
    step costs. The variables take the shapes of each network loaded into
    them (see reset), so one workspace trains every network of its
    :class:`Structure`. Keras callbacks get a Keras model that holds the
    current weights at each epoch's end (see train).
    """

    def __init__(self, structure, optimizer, loss, jit_compile=True):
        self.structure = structure
        self.optimizer = OPTIMIZERS[optimizer](learning_rate=0.001)
        self.rule = optimizer
        self.loss = LOSSES[loss]
        self.loss_derivative = LOSS_DERIVATIVES[loss]
        self.activation = _ACTIVATIONS[structure.activation]
        # The weights in get_weights() order: for each hidden layer kernel,
        # bias, then batch norm's gamma, beta, moving mean and variance; then
        # the output kernel and bias.
        self.dense, self.batch_norm, self.weights, self.trainable = [], [], [], []
        for _ in range(structure.depth):
            kernel, bias = _matrix(), _vector()
            self.dense.append((kernel, bias))
            self.weights += [kernel, bias]
            self.trainable += [kernel, bias]
            if structure.batch_norm:
                bn = tuple(_vector() for _ in range(4))
                self.batch_norm.append(bn)
                self.weights += bn
                self.trainable += bn[:2]
        output = (_matrix(), _vector())
        self.dense.append(output)
        self.weights += output
        self.trainable += output
        self.slots = [[_like(v) for v in self.trainable] for _ in range(_SLOTS[optimizer])]
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.dropout_seeds = tf.Variable(
            tf.zeros([structure.depth or 1], tf.int64), trainable=False
        )
        # One program for a run of epochs: the loop over epochs (with early
        # stopping's bookkeeping) around the loop over mini-batches, compiled
        # by XLA where that pays (see use_xla), so that a step costs its
        # arithmetic, not an op dispatch per operation. It is traced once, for
        # any shapes: the variables' shapes, the data's (padded to a size
        # bucket, see _pad), the batch size. XLA compiles it again for each
        # new combination of these (the batch size and evaluation chunk are
        # compile-time constants there); a plain graph runs any of them. The
        # number of real rows and the number of epochs to run are inputs, so
        # the folds of a cross-validation share one program, and a call runs
        # one epoch or many with the same arithmetic.
        self.xla = jit_compile
        self.run_epochs = tf.function(self._epochs, jit_compile=jit_compile)
        self._run = None
        # The best epoch's weights so far, kept beside the live ones: an epoch
        # copies them in when the previous epoch was the best, so that no
        # epoch pays for a copy to NumPy.
        self.best = [_like(v) for v in self.weights]
        # Early stopping's state between calls, as keras.callbacks.EarlyStopping
        # keeps it: the best monitored loss, epochs since it, its epoch
        # (1-based; 0: none yet), epochs done, whether the live weights are
        # the best and not yet copied to `best`; and the losses of the last
        # call's epochs, which survive a Ctrl-C that loses the call's result.
        self.best_loss = tf.Variable(tf.constant(np.inf, tf.float32), trainable=False)
        self.wait = tf.Variable(0, trainable=False)
        self.best_epoch = tf.Variable(0, trainable=False)
        self.done = tf.Variable(0, trainable=False)
        self.pending = tf.Variable(False, trainable=False)
        self.losses = tf.Variable(tf.zeros([_MAX_CHUNK, 2]), trainable=False)
        # Seconds per epoch last measured, by (spec, rows, validation rows,
        # batch size) as padded; the most recent _TIMED_SIGNATURES.
        self.epoch_seconds = collections.OrderedDict()
        # Loading and reading every weight in one graph call each, rather than
        # an eager operation per variable: for a small network on small data
        # the per-variable calls cost as much as an epoch. The weights travel
        # as one flat vector, which a graph call takes faster than a list,
        # with their shapes as (rows, columns) pairs (columns 0 for vectors).
        n = len(self.weights)
        flat, dims = tf.TensorSpec([None], tf.float32), tf.TensorSpec([n, 2], tf.int32)
        seeds = tf.TensorSpec(self.dropout_seeds.shape, tf.int64)
        self._load = tf.function(self._load_weights).get_concrete_function(
            flat, dims, tf.TensorSpec([], tf.float32), seeds
        )
        self._assign = tf.function(self._assign_weights).get_concrete_function(flat, dims)
        self._read = tf.function(self._read_weights).get_concrete_function(
            tf.TensorSpec([], tf.bool)
        )

    def _read_weights(self, best):
        return [tf.where(best, b, v) for b, v in zip(self.best, self.weights)]

    def _assign_weights(self, flat, dims):
        # Kernels take (rows, columns), vectors (length, 0).
        dims = [d if len(v.shape) == 2 else d[:1] for d, v in zip(tf.unstack(dims), self.weights)]
        sizes = tf.stack([tf.reduce_prod(d) for d in dims])
        values = []
        for v, piece, d in zip(self.weights, tf.split(flat, sizes, num=len(dims)), dims):
            value = tf.reshape(piece, d)
            v.assign(value)
            values.append(value)
        return values

    def _load_weights(self, flat, dims, learning_rate, seeds):
        values = self._assign_weights(flat, dims)
        for slot in self.slots:
            for s, v in zip(slot, self.trainable):
                s.assign(tf.zeros_like(v))  # read after its assignment (automatic control deps)
        for b, value in zip(self.best, values):
            b.assign(value)
        self.iterations.assign(0)
        self.best_loss.assign(np.inf)
        self.wait.assign(0)
        self.best_epoch.assign(0)
        self.done.assign(0)
        self.pending.assign(False)
        self.dropout_seeds.assign(seeds)
        self.optimizer.learning_rate.assign(learning_rate)

    @staticmethod
    def _flat(weights):
        flat = np.concatenate([np.ravel(w) for w in weights]).astype(np.float32)
        dims = np.array([(np.shape(w) + (0,))[:2] for w in weights], np.int32)
        return tf.constant(flat), tf.constant(dims)

    def reset(self, weights, learning_rate, seeds):
        """Load a network's initial weights; start the optimizer and dropout afresh."""
        seeds = np.asarray(seeds if len(seeds) else [0], dtype=np.int64)
        with _calls():
            self._load(
                *self._flat(weights), tf.constant(learning_rate, tf.float32), tf.constant(seeds)
            )

    def set_weights(self, weights):
        """Replace the live weights (a Keras callback changed them); nothing else."""
        with _calls():
            self._assign(*self._flat(weights))

    def get_weights(self, best=False):
        """The current (or the saved best) weights as new NumPy arrays."""
        with _calls():
            weights = self._read(tf.constant(best))
        return [np.array(t) for t in weights]

    def remember(self, signature, seconds):
        """Record an epoch's seconds for signature (see epoch_seconds)."""
        self.epoch_seconds.pop(signature, None)
        self.epoch_seconds[signature] = seconds
        while len(self.epoch_seconds) > _TIMED_SIGNATURES:
            self.epoch_seconds.popitem(last=False)

    def read_state(self):
        """(losses of the last call's epochs, epochs done, best epoch, pending).

        Read after a Ctrl-C only, in eager operations.
        """
        state = (self.done, self.best_epoch, self.pending)
        return (self.losses.numpy(), *(v.numpy().item() for v in state))

    def epoch_fn(self):
        """run_epochs' concrete function, traced on first use for any shapes."""
        if self._run is None:
            matrix, vector = tf.TensorSpec([None, None]), tf.TensorSpec([None])
            scalar = tf.TensorSpec([], tf.int32)
            self._run = self.run_epochs.get_concrete_function(
                matrix, matrix, vector, scalar, tf.TensorSpec([None, None], tf.int32), scalar,
                matrix, matrix, vector, scalar, tf.TensorSpec([], tf.bool), scalar,
                tf.TensorSpec([], tf.float64), scalar, scalar,
            )  # fmt: skip
        return self._run

    def _forward(self, x, training, real=None):
        spec, h = self.structure, x
        for i, (kernel, bias) in enumerate(self.dense[:-1]):
            h = self.activation(tf.matmul(h, kernel) + bias)
            if training and spec.dropout > 0:
                # What keras.layers.Dropout does, seeded per layer and step.
                seed = tf.stack([self.dropout_seeds[i], self.iterations])
                h = tf.nn.experimental.stateless_dropout(h, rate=spec.dropout, seed=seed)
            if spec.batch_norm:
                gamma, beta, moving_mean, moving_var = self.batch_norm[i]
                if training:
                    # Batch statistics over the real rows, not the padding.
                    mean, var = tf.nn.weighted_moments(h, axes=[0], frequency_weights=real)
                    moving_mean.assign(moving_mean * _BN_MOMENTUM + mean * (1 - _BN_MOMENTUM))
                    moving_var.assign(moving_var * _BN_MOMENTUM + var * (1 - _BN_MOMENTUM))
                else:
                    mean, var = moving_mean, moving_var
                h = tf.nn.batch_normalization(h, mean, var, beta, gamma, BATCH_NORM_EPSILON)
        kernel, bias = self.dense[-1]
        return tf.matmul(h, kernel) + bias

    def _apply(self, grads, lr):
        """One update of every trained variable, by the Keras optimizer's rule."""
        opt, step = self.optimizer, tf.cast(self.iterations, tf.float32)
        # Hyper-parameters as tensors once, rather than a constant per variable.
        beta_1, beta_2, epsilon = (
            tf.constant(getattr(opt, name, 0.0), tf.float32)
            for name in ("beta_1", "beta_2", "epsilon")
        )
        if self.rule == "adamw":
            for v in self.trainable:
                v.assign_sub(v * opt.weight_decay * lr)
        if self.rule in ("adam", "adamw"):
            beta1_power, beta2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
        for i, (v, g) in enumerate(zip(self.trainable, grads)):
            slots = [s[i].handle for s in self.slots]
            if self.rule in ("adam", "adamw"):
                tf.raw_ops.ResourceApplyAdam(
                    var=v.handle, m=slots[0], v=slots[1],
                    beta1_power=beta1_power, beta2_power=beta2_power,
                    lr=lr, beta1=beta_1, beta2=beta_2, epsilon=epsilon, grad=g,
                )  # fmt: skip
            elif self.rule == "rmsprop":
                tf.raw_ops.ResourceApplyRMSProp(
                    var=v.handle, ms=slots[0], mom=slots[1], lr=lr, rho=opt.rho,
                    momentum=0.0, epsilon=epsilon, grad=g,
                )  # fmt: skip
            else:
                tf.raw_ops.ResourceApplyGradientDescent(var=v.handle, alpha=lr, delta=g)

    def _gradients(self, x, y, w):
        """(sum of the batch's weighted losses, gradients of their weighted mean).

        The backward pass written out, for networks of dense layers: a third
        of the graph operations of GradientTape's generic gradients (which
        compute broadcast shapes at run time, as this program's shapes are not
        fixed), the same arithmetic. Rows of zero weight have no influence.
        """
        grad_activation = ACTIVATION_GRADIENTS[self.structure.activation]
        inputs, pre, h = [], [], x
        for kernel, bias in self.dense[:-1]:
            inputs.append(h)
            z = tf.matmul(h, kernel) + bias
            h = self.activation(z)
            pre.append(z)
        kernel, bias = self.dense[-1]
        p = tf.matmul(h, kernel) + bias
        total = tf.reduce_sum(self.loss(y, p) * w)
        # d(weighted mean)/dp: w / sum(w) / outputs times the loss's derivative.
        scale = tf.math.divide_no_nan(w, tf.reduce_sum(w)) / tf.cast(tf.shape(y)[1], tf.float32)
        g = self.loss_derivative(p - y) * scale[:, None]
        grads = []
        for i in range(len(self.dense) - 1, -1, -1):
            kernel, _ = self.dense[i]
            grads += [tf.reduce_sum(g, axis=0), tf.matmul(h, g, transpose_a=True)]
            if i:
                g = grad_activation(tf.matmul(g, kernel, transpose_b=True), pre[i - 1], h)
                h = inputs[i - 1]
        return total, grads[::-1]

    def _weighted_loss(self, x, y, w, training):
        # Batch norm's batch statistics count the real rows, not the padding.
        real = None
        if training and self.structure.batch_norm:
            real = tf.cast(w > 0, tf.float32)[:, None]
        return tf.reduce_sum(self.loss(y, self._forward(x, training, real)) * w)

    def _epochs(
        self, x, y, w, n, orders, k, x_val, y_val, w_val, n_val,
        early_stopping, patience, min_delta, batch_size, eval_chunk,
    ):  # fmt: skip
        # Up to k epochs, epoch j in the order orders[j]; stops early as
        # keras.callbacks.EarlyStopping does, or at a loss that is not
        # finite. Early stopping's state lives in variables between calls.
        # The state travels through the loop as loop variables, so that each
        # epoch's decision depends on the previous epoch's data, not on the
        # order in which the runtime reads variables.
        def one_epoch(j, status, best_loss, wait, best_epoch, done, pending, losses):
            # If the weights as they come in are the best so far, keep them.
            for best, v in zip(self.best, self.weights):
                best.assign(tf.where(pending, v, best))
            train_loss, val_loss = self._epoch(
                x, y, w, n, orders[j], x_val, y_val, w_val, n_val, batch_size, eval_chunk
            )
            losses = tf.tensor_scatter_nd_update(
                losses, [[j]], tf.stack([train_loss, val_loss])[None]
            )
            # Monitored: the validation loss if there are validation data.
            monitored = tf.where(n_val > 0, val_loss, train_loss)
            rule = early_stopping_update(
                best_loss, wait, best_epoch, done + 1, monitored, min_delta, patience
            )
            # A loss that is not finite ends the run (see train); it changes nothing.
            finite = tf.math.is_finite(train_loss) & tf.math.is_finite(val_loss)
            best_loss, wait, best_epoch, improved, stop = (
                tf.where(finite, new, old)
                for new, old in zip(rule, (best_loss, wait, best_epoch, False, False))
            )
            status = tf.where(
                finite, tf.where(early_stopping & stop, _EARLY_STOP, _RUNNING), _NOT_FINITE
            )
            done = tf.where(finite, done + 1, done)
            return j + 1, status, best_loss, wait, best_epoch, done, improved, losses

        state = (
            tf.constant(0), tf.constant(_RUNNING), tf.convert_to_tensor(self.best_loss),
            tf.convert_to_tensor(self.wait), tf.convert_to_tensor(self.best_epoch),
            tf.convert_to_tensor(self.done), tf.convert_to_tensor(self.pending),
            tf.zeros([_MAX_CHUNK, 2]),
        )  # fmt: skip
        j, status, best_loss, wait, best_epoch, done, pending, losses = tf.while_loop(
            lambda j, status, *_: (j < k) & tf.equal(status, _RUNNING), one_epoch, state
        )
        for var, value in zip(
            (self.best_loss, self.wait, self.best_epoch, self.done, self.pending, self.losses),
            (best_loss, wait, best_epoch, done, pending, losses),
        ):
            var.assign(value)
        # Epochs run (the last one not finite if status says so), and why it stopped.
        return losses, tf.stack([j, status, best_epoch, tf.cast(pending, tf.int32)])

    def _epoch(self, x, y, w, n, order, x_val, y_val, w_val, n_val, batch_size, eval_chunk):
        # x, y, w hold n real rows then padding of weight 0, at least up to
        # the end of the last batch; order is this epoch's order of the rows,
        # the padding last. The validation data are padded to whole chunks of
        # eval_chunk rows. batch_size and eval_chunk are compile-time
        # constants for XLA (they are slice sizes).
        # Read once an epoch: callbacks may change it between epochs.
        lr = tf.convert_to_tensor(self.optimizer.learning_rate, tf.float32)

        # XLA needs a static batch: the last one runs padded. A plain graph
        # runs it at its real size, without the padding's arithmetic.
        def rows(i, size, count):
            # Rows in slice i of `size` rows, of `count` real rows.
            return size if self.xla else tf.minimum(size, count - i * size)

        def step(i, total):
            idx = tf.slice(order, [i * batch_size], tf.reshape(rows(i, batch_size, n), [1]))
            xb, yb, wb = tf.gather(x, idx), tf.gather(y, idx), tf.gather(w, idx)
            if self.structure.dropout > 0 or self.structure.batch_norm:
                with tf.GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch(self.trainable)
                    batch_sum = self._weighted_loss(xb, yb, wb, True)
                    # A weighted mean: rows of zero weight have no influence at all.
                    batch_loss = tf.math.divide_no_nan(batch_sum, tf.reduce_sum(wb))
                grads = tape.gradient(batch_loss, self.trainable)
            else:
                batch_sum, grads = self._gradients(xb, yb, wb)
            self.iterations.assign_add(1)
            self._apply(grads, lr)
            return i + 1, total + batch_sum

        n_batches = (n + batch_size - 1) // batch_size
        _, total = tf.while_loop(
            lambda i, _: i < n_batches, step, (tf.constant(0), tf.constant(0.0))
        )
        train_loss = tf.math.divide_no_nan(total, tf.reduce_sum(w))

        chunk = eval_chunk

        def evaluate(i, total):
            start, size = tf.stack([i * chunk, 0]), tf.stack([rows(i, chunk, n_val), -1])
            xv, yv = tf.slice(x_val, start, size), tf.slice(y_val, start, size)
            wv = tf.slice(w_val, start[:1], size[:1])
            return i + 1, total + self._weighted_loss(xv, yv, wv, False)

        _, val_total = tf.while_loop(
            lambda i, _: i < (n_val + chunk - 1) // chunk,
            evaluate,
            (tf.constant(0), tf.constant(0.0)),
        )
        val_loss = tf.math.divide_no_nan(val_total, tf.reduce_sum(w_val))
        return train_loss, val_loss


def _bucket(n, multiple, minimum=_MIN_BUCKET):
    """Padded size for n rows: the next power of two, in whole multiples.

    Powers of two (at least ``minimum``) keep the number of distinct compiled
    shapes small: folds of similar size and all small data sets share one.
    The padding costs memory, at most as much as the data, and little
    arithmetic: the loops stop at the last real row's batch or chunk.
    """
    size = max(minimum, 1 << max(int(n) - 1, 1).bit_length())
    return -(-size // multiple) * multiple


def _aligned(shape, dtype=np.float32):
    """A zeroed array whose data start on a 64-byte boundary.

    TensorFlow's kernels require 64-byte aligned buffers; NumPy's only
    guarantee 16.
    """
    n, itemsize = int(np.prod(shape)), np.dtype(dtype).itemsize
    buffer = np.zeros(n + 64 // itemsize, dtype)
    start = (-buffer.ctypes.data % 64) // itemsize
    return buffer[start : start + n].reshape(shape)


def _shared(a):
    """A tensor sharing an aligned array's memory (DLPack): no copy."""
    return tf.experimental.dlpack.from_dlpack(a.__dlpack__())


def _pad(arrays, size):
    """Tensors of ``size`` rows: the arrays' rows, then zeros (weight 0).

    The padded arrays become tensors through DLPack, which shares their
    memory, where ``tf.convert_to_tensor`` would copy them (twice over, in
    TensorFlow 2.21's peak memory) and so triple the data's footprint.
    """
    out = []
    for a in arrays:
        padded = _aligned((size, *a.shape[1:]))
        padded[: len(a)] = a
        out.append(_shared(padded))
    return out


class _WorkspacePool:
    """Idle workspaces by (structure, optimizer, loss, xla), least recently used first out.

    Room for 32: more structures than a grid search usually tries, since a
    cache that is too small for a search that cycles through its candidates
    misses every time, and each miss traces (and compiles) anew.
    """

    def __init__(self, max_idle=32):
        self.max_idle = max_idle
        self._idle = collections.OrderedDict()
        self._lock = threading.Lock()

    def checkout(self, key):
        """An idle workspace for key = (structure, optimizer, loss, xla), or a new one."""
        with self._lock:
            if key in self._idle:
                return self._idle.pop(key)
        structure, optimizer, loss, xla = key
        return _Workspace(structure, optimizer, loss, jit_compile=xla)

    def checkin(self, key, workspace):
        with self._lock:
            # One idle workspace per key is enough for sequential fits.
            self._idle.pop(key, None)
            self._idle[key] = workspace
            while len(self._idle) > self.max_idle:
                self._idle.popitem(last=False)

    def clear(self):
        with self._lock:
            self._idle.clear()


POOL = _WorkspacePool()

# TensorFlow never frees an XLA compilation: each keeps ~5.5 MB and ~150
# memory mappings for the life of the process, and a process that compiles
# some 400 programs hits the kernel's map limit (vm.max_map_count) and
# aborts. Past this many compilations (networks, data sizes and batch sizes
# that XLA compiled for), fits of anything new run the same epochs as a plain
# TensorFlow graph, slower for small networks but costing no memory per shape.
_XLA_PROGRAMS = 100
_xla_programs = set()
_xla_lock = threading.Lock()


def _xla_budget(signature, force=False):
    """Whether XLA may run the program for signature (compiled, or room for it).

    With force (``jit_compile=True``), XLA runs it whatever the count.
    """
    with _xla_lock:
        if signature in _xla_programs:
            return True
        if len(_xla_programs) >= _XLA_PROGRAMS and not force:
            return False
        _xla_programs.add(signature)
        return True


# Below this address-space limit "auto" does not compile with XLA. Measured
# (1,000 rows x 20, 2 x 32, batches of 16): a plain-graph fit maps 2.1 GB,
# the same fit with XLA 3.0 GB (its compiler's threads and code), and under
# `prlimit --as=3000000000` XLA aborted the process; at 3.5 GB it trained.
# Larger networks and more threads map more: a wide margin.
_XLA_MIN_ADDRESS_SPACE = 16 << 30


def _address_space_limited():
    """Whether the process runs under an address-space limit (``ulimit -v``) too low for XLA.

    XLA's compiler starts threads whose stacks take address space; under a
    limit of a few GB pthread_create fails inside it ("LLVM ERROR: Unable to
    allocate section memory") and the process aborts, where a plain graph
    trains.
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return False
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY and soft < _XLA_MIN_ADDRESS_SPACE


# When to compile an epoch with XLA rather than run it as a plain graph. XLA
# adds about a second to the first fit of each new network, batch size and
# data size (a plain graph adds nothing once its structure is traced) and
# pays back by removing the per-operation dispatch of every step:
# worth it with many mini-batches per epoch (1.5-4x faster epochs for small
# networks), and for large layers, where its fusion gains ~10% on each step.
# With few batches per epoch a plain graph runs within tens of percent of XLA,
# and the compilation would dominate a typical fit (red wine in batches of
# 256: 5 steps/epoch). The choice depends only on the fit's own network, rows
# and batch size, so a fit gives the same result whatever ran before it in the
# process.
_XLA_MIN_STEPS = 16
_XLA_MIN_MACS = 250_000


def _forced(jit_compile):
    """True or False for jit_compile True or False (NumPy bools too), None for "auto"."""
    return None if isinstance(jit_compile, str) else bool(jit_compile)


def use_xla(spec, steps_per_epoch, jit_compile="auto"):
    """Whether a fit of spec with this many steps per epoch is compiled by XLA.

    ``jit_compile`` True or False decides; ``"auto"`` compiles where it pays,
    and never under an address-space limit (see _address_space_limited).
    """
    if _forced(jit_compile) is not None:
        return _forced(jit_compile)
    macs = sum(shape[0] * shape[1] for shape in spec.weight_shapes() if len(shape) == 2)
    pays = steps_per_epoch >= _XLA_MIN_STEPS or macs >= _XLA_MIN_MACS
    return pays and not _address_space_limited()


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    weights : list of ndarray
        Final weights, in ``get_weights()`` order.
    history : list of tuple
        ``(loss, val_loss)`` per epoch run; ``val_loss`` is NaN without
        validation data.
    best_epoch : int or None
        1-based epoch whose weights were the best by the monitored loss.
    stop_reason : str
        ``"early_stopping"``, ``"max_epochs"``, ``"callback"``, ``"diverged"``
        or ``"interrupted"``.
    """

    weights: list
    history: list = field(default_factory=list)
    best_epoch: int = None
    stop_reason: str = "max_epochs"


class DivergedError(ValueError):
    """The loss became NaN or infinite before any finite epoch."""


def train(
    spec,
    weights,
    train_data,
    val_data=None,
    *,
    optimizer="adam",
    learning_rate=0.001,
    loss="mae",
    batch_size=256,
    epochs=500,
    shuffle=True,
    seed=0,
    early_stopping=True,
    patience=20,
    min_delta=0.001,
    restore_best_weights=True,
    callbacks=(),
    jit_compile="auto",
):
    """Train the network ``spec`` from ``weights``.

    Early stopping follows ``keras.callbacks.EarlyStopping``, by the rule in
    :mod:`kerasreg._early_stopping`: an epoch is an improvement when its
    monitored loss is below the best so far by more than ``min_delta``;
    training stops once ``patience`` epochs pass without one. The monitored
    loss is ``val_loss`` when validation data are given, else the training
    loss.

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of ndarray
        Initial weights.
    train_data : tuple of ndarray
        ``(x, y, sample_weight)``, float32, y of shape (n, n_outputs).
    val_data : tuple of ndarray, default=None
        The same for validation.
    jit_compile : {"auto", True, False}
        Whether XLA compiles the epochs program (see use_xla).
    callbacks : sequence of keras.callbacks.Callback
        Given the training model; ``on_train_begin``, ``on_epoch_begin``,
        ``on_epoch_end`` (with ``loss`` and ``val_loss`` in the logs) and
        ``on_train_end`` are called. Setting ``model.stop_training`` stops.

    Returns
    -------
    TrainResult

    Raises
    ------
    RuntimeError
        In a process forked after TensorFlow ran in its parent (see _fork).
    DivergedError
        If the very first epoch's loss is not finite.
    KeyboardInterrupt
        If interrupted before the first epoch finished.
    """
    check_not_forked()
    n = len(train_data[0])
    # A batch larger than the data is one padded batch; no larger than the
    # padded data, so that a huge batch_size does not allocate padding.
    batch_size = min(batch_size, _bucket(n, 1))
    steps_per_epoch = -(-n // batch_size)
    has_val = val_data is not None
    padded = _bucket(n, batch_size)
    if not has_val:
        val_data = (
            np.zeros((0, spec.n_features), np.float32),
            np.zeros((0, spec.n_outputs), np.float32),
            np.zeros(0, np.float32),
        )
    # A power of two of at least 256: whole chunks of _EVAL_CHUNK rows.
    val_padded = _bucket(len(val_data[0]), 1, _MIN_VAL_BUCKET)
    # What a compilation and an epoch's time depend on, beyond the workspace.
    signature = (spec, padded, val_padded, batch_size)
    xla = use_xla(spec, steps_per_epoch, jit_compile) and _xla_budget(
        (optimizer, loss, *signature), force=_forced(jit_compile) is True
    )
    key = (Structure(spec), optimizer, loss, xla)
    # Checked out for this run alone: concurrent fits never share variables.
    ws = POOL.checkout(key)
    try:
        seeds = np.random.RandomState(seed).randint(
            np.iinfo(np.int32).max, size=len(spec.hidden_layer_sizes)
        )
        ws.reset(weights, learning_rate, seeds)
        train_tensors = _pad(train_data, padded)
        val_tensors = _pad(val_data, val_padded)
        val_tensors.append(tf.constant(len(val_data[0]), tf.int32))
        n_rows = tf.constant(n, tf.int32)

        # Without callbacks, a call runs up to max_chunk epochs (their
        # shuffled orders are an input); with callbacks, one epoch per call,
        # so that they see every epoch. Same program, same arithmetic.
        max_chunk = max(1, min(_MAX_CHUNK, _CHUNK_ORDER_ROWS // padded))
        run_epochs = ws.epoch_fn()
        # Always max_chunk orders (XLA compiles once per input shape), passed
        # without a copy; a call uses the first k.
        orders = _aligned((max_chunk, padded), np.int32)
        orders[:] = np.arange(padded, dtype=np.int32)
        settings = (
            tf.constant(early_stopping),
            tf.constant(min(patience, np.iinfo(np.int32).max), tf.int32),
            tf.constant(min_delta, tf.float64),
            tf.constant(batch_size, tf.int32),
            tf.constant(min(val_padded, _EVAL_CHUNK), tf.int32),
        )
        model = _NoModel()
        if any(getattr(cb, "reads_model", True) for cb in callbacks):
            # Callbacks see a Keras model of this network, with the current
            # weights at each epoch's end, and the workspace's optimizer (so
            # that a learning-rate schedule changes the rate trained with).
            model = build_model(spec, weights)
            model.compile(optimizer=ws.optimizer, loss=loss)
        cbs = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, verbose=0)
        result = TrainResult(weights=None)
        # The first call runs one epoch, unless an earlier fit timed an
        # epoch of this signature (the first call may compile: it is timed).
        known = ws.epoch_seconds.get(signature)
        chunk = 1 if known is None else _chunk(known, max_chunk)
        history, pending, start = result.history, False, 0
        if callbacks:
            cbs.on_train_begin()
        try:
            while len(history) < epochs:
                start = len(history)
                k = 1 if callbacks else min(chunk, epochs - start)
                if callbacks:
                    _with_model(ws, model, cbs.on_epoch_begin, start, sync=False)
                if shuffle:
                    # Shuffled in NumPy: XLA's sort would cost more than the epoch.
                    for j in range(k):
                        orders[j, :n] = np.random.default_rng([seed, start + j]).permutation(n)
                t0 = time.perf_counter()
                with _calls():
                    epochs_in = (_shared(orders), tf.constant(k))
                    losses, state = run_epochs(
                        *train_tensors, n_rows, *epochs_in, *val_tensors, *settings
                    )
                ran, status, best_epoch, pending = (int(v) for v in state.numpy())
                per_epoch = (time.perf_counter() - t0) / ran
                ws.remember(signature, per_epoch)
                chunk = _chunk(per_epoch, max_chunk)
                losses = losses.numpy()
                finite = ran - (status == _NOT_FINITE)
                for train_loss, val_loss in losses[:finite].tolist():
                    history.append((train_loss, val_loss if has_val else math.nan))
                result.best_epoch = best_epoch or None
                if status == _NOT_FINITE:
                    train_loss, val_loss = losses[finite].tolist()
                    if not best_epoch:
                        raise DivergedError(
                            "The loss was not finite after the first epoch (loss="
                            f"{train_loss}, val_loss={val_loss if has_val else math.nan}). "
                            "Lower learning_rate."
                        )
                    result.stop_reason = "diverged"
                    break
                if callbacks:
                    logs = {"loss": history[-1][0]}
                    if has_val:
                        logs["val_loss"] = history[-1][1]
                    _with_model(ws, model, cbs.on_epoch_end, start, logs)
                if status == _EARLY_STOP:
                    result.stop_reason = "early_stopping"
                    break
                if callbacks and model.stop_training:
                    result.stop_reason = "callback"
                    break
        except KeyboardInterrupt:
            # The interrupted call's epochs may have run without Python seeing
            # its result: the workspace's state says which, and their losses.
            losses, done, best_epoch, pending = ws.read_state()
            for train_loss, val_loss in losses[len(history) - start : done - start].tolist():
                history.append((train_loss, val_loss if has_val else math.nan))
            if not history:
                raise
            result.best_epoch = best_epoch or None
            result.stop_reason = "interrupted"
        if callbacks:
            _with_model(ws, model, cbs.on_train_end)

        restore = result.stop_reason == "diverged" or (early_stopping and restore_best_weights)
        # pending: the live weights are the best, not yet copied to ws.best.
        result.weights = ws.get_weights(best=restore and not pending)
        return result
    finally:
        POOL.checkin(key, ws)


class _NoModel:
    """The model for callbacks that never look at it (``reads_model = False``)."""

    stop_training = False


def _with_model(ws, model, call, *args, sync=True):
    """Call callbacks with the model's weights as the workspace's live weights.

    With sync, the model gets the live weights first; if a callback changes
    them (``model.set_weights``), training goes on from its weights.
    """
    if isinstance(model, _NoModel):
        return call(*args)
    if sync:
        before = ws.get_weights()
        model.set_weights(before)
    else:
        before = model.get_weights()
    call(*args)
    after = model.get_weights()
    if any(not np.array_equal(a, b) for a, b in zip(after, before)):
        ws.set_weights(after)
