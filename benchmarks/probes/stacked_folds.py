#!/usr/bin/env python
"""Would one program for a candidate's F folds beat F fits? Per fold and epoch, in ms.

The estimator-specific search of issue 16 would train a candidate's folds
side by side: kernels stacked as (F, inputs, units), one batched product per
layer and step, each fold with its own Adam state (a fold that stopped is
frozen by a mask). This is that step, without early stopping's bookkeeping
(a lower bound on its cost), as a plain graph against the engine's own fit
of one fold (``jit_compile=False``), on 960 rows of 11 features in batches
of 32 (red wine's CV folds). From the repository root::

    python -m benchmarks.probes.stacked_folds 16x1 64x2 256x3 --folds 3
"""

import argparse
import time

ROWS, FEATURES, BATCH, EPOCHS = 960, 11, 32, 20


def stacked_epoch_ms(tf, np, folds, width, depth):
    from kerasreg._compat.tensorflow import without_grappler

    rng = np.random.default_rng(0)
    padded = 1024
    x = tf.constant(rng.random((folds * padded, FEATURES), np.float32))
    y = tf.constant(rng.random((folds * padded, 1), np.float32))
    w = tf.constant(np.ones(folds * padded, np.float32))
    sizes = [FEATURES] + [width] * depth + [1]

    def variable(a):
        return tf.Variable(a.astype(np.float32), shape=tf.TensorShape([None] * a.ndim))

    shapes = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (1, b))]
    params = [variable(rng.standard_normal((folds, *s)) * 0.1) for s in shapes]
    m = [variable(np.zeros((folds, *s))) for s in shapes]
    v = [variable(np.zeros((folds, *s))) for s in shapes]
    steps = tf.Variable(tf.zeros([folds], tf.int32))
    running = tf.Variable(tf.ones([folds], tf.bool))

    def epoch(order):
        order = order + (tf.range(folds) * padded)[:, None]
        on = tf.convert_to_tensor(running)
        on3 = on[:, None, None]

        def step(i, total):
            idx = tf.slice(order, tf.stack([0, i * BATCH]), [folds, BATCH])
            xb, yb, wb = tf.gather(x, idx), tf.gather(y, idx), tf.gather(w, idx)
            h, inputs, pre = xb, [], []
            for kernel, bias in zip(params[0:-2:2], params[1:-2:2]):
                inputs.append(h)
                z = tf.matmul(h, kernel) + bias
                pre.append(z)
                h = tf.nn.relu(z)
            p = tf.matmul(h, params[-2]) + params[-1]
            total += tf.reduce_sum(tf.abs(p - yb)[..., 0] * wb, axis=1)
            g = tf.sign(p - yb) * (wb / tf.reduce_sum(wb, axis=1, keepdims=True))[..., None]
            grads = []
            for layer in range(depth, -1, -1):
                grads.append(tf.reduce_sum(g, axis=1, keepdims=True))
                grads.append(tf.matmul(h, g, transpose_a=True))
                if layer:
                    back = tf.matmul(g, params[2 * layer], transpose_b=True)
                    g = tf.raw_ops.ReluGrad(gradients=back, features=pre[layer - 1])
                    h = inputs[layer - 1]
            t = tf.cast(steps.assign_add(tf.cast(on, tf.int32)), tf.float32)
            alpha = (0.001 * tf.sqrt(1 - tf.pow(0.999, t)) / (1 - tf.pow(0.9, t)))[:, None, None]
            for var, grad, mv, vv in zip(params, grads[::-1], m, v):
                m2 = mv + (grad - mv) * 0.1
                v2 = vv + (tf.square(grad) - vv) * 0.001
                mv.assign(tf.where(on3, m2, mv))
                vv.assign(tf.where(on3, v2, vv))
                var.assign(tf.where(on3, var - (m2 * alpha) / (tf.sqrt(v2) + 1e-7), var))
            return i + 1, total

        return tf.while_loop(lambda i, _: i < ROWS // BATCH, step, (0, tf.zeros([folds])))[1]

    run = tf.function(epoch, autograph=False).get_concrete_function(
        tf.TensorSpec([None, None], tf.int32)
    )
    order = tf.constant(np.tile(np.arange(padded, dtype=np.int32), (folds, 1)))
    with without_grappler(True):
        run(order).numpy()
        t0 = time.perf_counter()
        for _ in range(EPOCHS):
            run(order).numpy()
    return (time.perf_counter() - t0) / EPOCHS * 1000


def single_epoch_ms(np, width, depth):
    from kerasreg._engine import TrainConfig, train
    from kerasreg._network import NetworkSpec, initial_weights

    rng = np.random.default_rng(0)
    x = rng.random((ROWS, FEATURES), np.float32)
    data = (x, x.sum(1, keepdims=True), np.ones(ROWS, np.float32))
    spec = NetworkSpec(FEATURES, 1, (width,) * depth)
    config = TrainConfig(
        optimizer="adam", learning_rate=0.001, loss="mae", alpha=0.0, batch_size=BATCH,
        epochs=EPOCHS, shuffle=False, seed=0, early_stopping=False, patience=1, min_delta=0.0,
        restore_best_weights=False, jit_compile=False,
    )  # fmt: skip
    weights = initial_weights(spec, np.random.RandomState(0))
    train(spec, weights, data, None, config)
    t0 = time.perf_counter()
    train(spec, weights, data, None, config)
    return (time.perf_counter() - t0) / EPOCHS * 1000


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.probes.stacked_folds")
    p.add_argument("networks", nargs="*", default=["16x1", "64x2", "256x3"])
    p.add_argument("--folds", type=int, default=3)
    a = p.parse_args(argv)
    import numpy as np
    import tensorflow as tf

    for net in a.networks:
        width, depth = map(int, net.split("x"))
        stacked = stacked_epoch_ms(tf, np, a.folds, width, depth) / a.folds
        single = single_epoch_ms(np, width, depth)
        print(f"{net:>6}: stacked {stacked:.2f} ms per fold-epoch ({a.folds} folds), "
              f"one fit {single:.2f} ms per epoch: {single / stacked:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
