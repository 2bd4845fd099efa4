"""One epoch inside the compiled program: the forward pass, the backward pass, the updates.

Functions of a workspace (see :mod:`kerasreg._engine.program`), traced into
its epochs program. The arithmetic is Keras's: ``Dense`` (``x @ kernel +
bias``), ``Dropout`` (seeded per layer and step), ``BatchNormalization``
(Keras's momentum and epsilon) and the update rules of
:mod:`kerasreg._engine.updates`.
"""

import tensorflow as tf

from .._compat import tensorflow as tf_compat
from .._network import BATCH_NORM_EPSILON

# Keras's BatchNormalization default momentum for the moving statistics.
BN_MOMENTUM = 0.99


def forward(ws, x, training, real=None):
    """The network's output for x; ``real`` weights batch norm's statistics (padding 0)."""
    spec, h = ws.structure, x
    for i, (kernel, bias) in enumerate(ws.dense[:-1]):
        h = ws.activation.tensorflow(tf.matmul(h, kernel) + bias)
        if training and spec.dropout > 0:
            # What keras.layers.Dropout does, seeded per layer and step.
            seed = tf.stack([ws.dropout_seeds[i], ws.iterations])
            h = tf_compat.stateless_dropout(h, rate=spec.dropout, seed=seed)
        if spec.batch_norm:
            gamma, beta, moving_mean, moving_var = ws.batch_norm[i]
            if training:
                # Batch statistics over the real rows, not the padding.
                mean, var = tf.nn.weighted_moments(h, axes=[0], frequency_weights=real)
                moving_mean.assign(moving_mean * BN_MOMENTUM + mean * (1 - BN_MOMENTUM))
                moving_var.assign(moving_var * BN_MOMENTUM + var * (1 - BN_MOMENTUM))
            else:
                mean, var = moving_mean, moving_var
            h = tf.nn.batch_normalization(h, mean, var, beta, gamma, BATCH_NORM_EPSILON)
    kernel, bias = ws.dense[-1]
    return tf.matmul(h, kernel) + bias


def penalty(ws):
    """The L2 penalty, ``alpha * sum(kernel ** 2)`` over every kernel (Keras's ``L2(alpha)``)."""
    return ws.alpha * tf.add_n([tf.reduce_sum(tf.square(kernel)) for kernel, _ in ws.dense])


def weighted_loss(ws, x, y, w, training):
    """The sum of the rows' losses times their weights."""
    # Batch norm's batch statistics count the real rows, not the padding.
    real = None
    if training and ws.structure.batch_norm:
        real = tf.cast(w > 0, tf.float32)[:, None]
    return tf.reduce_sum(ws.loss.tensorflow(y, forward(ws, x, training, real)) * w)


def gradients(ws, x, y, w):
    """(sum of the batch's weighted losses, gradients of their weighted mean plus the penalty).

    The backward pass written out, for networks of dense layers: a third of
    the graph operations of GradientTape's generic gradients (which compute
    broadcast shapes at run time, as this program's shapes are not fixed),
    the same arithmetic. Rows of zero weight have no influence.
    """
    act = ws.activation
    inputs, pre, h = [], [], x
    for kernel, bias in ws.dense[:-1]:
        inputs.append(h)
        z = tf.matmul(h, kernel) + bias
        h = act.tensorflow(z)
        pre.append(z)
    kernel, bias = ws.dense[-1]
    p = tf.matmul(h, kernel) + bias
    total = tf.reduce_sum(ws.loss.tensorflow(y, p) * w)
    # d(weighted mean)/dp: w / sum(w) / outputs times the loss's derivative.
    scale = tf.math.divide_no_nan(w, tf.reduce_sum(w)) / tf.cast(tf.shape(y)[1], tf.float32)
    g = ws.loss.derivative(p - y) * scale[:, None]
    grads = []
    for i in range(len(ws.dense) - 1, -1, -1):
        kernel, _ = ws.dense[i]
        kernel_grad = tf.matmul(h, g, transpose_a=True)
        if ws.penalized:
            kernel_grad += 2.0 * ws.alpha * kernel
        grads += [tf.reduce_sum(g, axis=0), kernel_grad]
        if i:
            g = act.gradient(tf.matmul(g, kernel, transpose_b=True), pre[i - 1], h)
            h = inputs[i - 1]
    return total, grads[::-1]


def epoch(ws, x, y, w, n, order, x_val, y_val, w_val, n_val, batch_size, eval_rows):
    """One epoch's updates in the given order, then the validation loss.

    x, y, w hold n real rows then padding of weight 0, at least up to the end
    of the last batch; order is this epoch's order of the rows, the padding
    last. The validation data are padded to whole slices of eval_rows rows.
    batch_size and eval_rows are compile-time constants for XLA (slice sizes).
    Returns (training loss, validation loss), weighted means.
    """
    # Read once an epoch: callbacks may change it between epochs.
    lr = tf.convert_to_tensor(ws.learning_rate, tf.float32)

    # XLA needs a static batch: the last one runs padded. A plain graph runs
    # it at its real size, without the padding's arithmetic.
    def rows(i, size, count):
        # Rows in slice i of `size` rows, of `count` real rows.
        return size if ws.xla else tf.minimum(size, count - i * size)

    def train_step(i, total):
        idx = tf.slice(order, [i * batch_size], tf.reshape(rows(i, batch_size, n), [1]))
        xb, yb, wb = tf.gather(x, idx), tf.gather(y, idx), tf.gather(w, idx)
        if ws.structure.dropout > 0 or ws.structure.batch_norm:
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(ws.trainable)
                batch_sum = weighted_loss(ws, xb, yb, wb, True)
                # A weighted mean: rows of zero weight have no influence at all.
                batch_loss = tf.math.divide_no_nan(batch_sum, tf.reduce_sum(wb))
                if ws.penalized:
                    batch_loss += penalty(ws)
            grads = tape.gradient(batch_loss, ws.trainable)
        else:
            batch_sum, grads = gradients(ws, xb, yb, wb)
        if ws.penalized:
            # Keras's loss of a batch: its mean loss plus the penalty, at the
            # weights the batch was computed with.
            batch_sum += penalty(ws) * tf.reduce_sum(wb)
        ws.iterations.assign_add(1)
        step = tf.cast(ws.iterations, tf.float32)
        ws.rule.update(ws.trainable, grads, ws.slots, step, lr, ws.rule.hyper)
        return i + 1, total + batch_sum

    n_batches = (n + batch_size - 1) // batch_size
    _, total = tf.while_loop(
        lambda i, _: i < n_batches, train_step, (tf.constant(0), tf.constant(0.0))
    )
    train_loss = tf.math.divide_no_nan(total, tf.reduce_sum(w))

    def evaluate(i, total):
        start, size = tf.stack([i * eval_rows, 0]), tf.stack([rows(i, eval_rows, n_val), -1])
        xv, yv = tf.slice(x_val, start, size), tf.slice(y_val, start, size)
        wv = tf.slice(w_val, start[:1], size[:1])
        return i + 1, total + weighted_loss(ws, xv, yv, wv, False)

    _, val_total = tf.while_loop(
        lambda i, _: i < (n_val + eval_rows - 1) // eval_rows,
        evaluate,
        (tf.constant(0), tf.constant(0.0)),
    )
    val_loss = tf.math.divide_no_nan(val_total, tf.reduce_sum(w_val))
    if ws.penalized:
        val_loss += penalty(ws)  # as Keras's evaluate adds its regularization losses
    return train_loss, val_loss
