#!/usr/bin/env python
"""What one operation of a small network's step costs, with TensorFlow's pools and with one thread.

Each operation runs 1,000 times in a ``tf.function`` while loop (a plain
graph, as the engine runs small networks): a 32×64 by 64×64 matrix product,
the same for three folds stacked (a batched product), a gather of 32 rows,
a column sum, and Adam's fused update (``ResourceApplyAdam``) of variables
of 256 to 262,144 elements. Where TensorFlow splits an operation across its
intra-op pool, the calling thread waits for the other: on a two-core
machine that wait, not the arithmetic, is most of a small step's time,
which is why kerasreg runs a plain graph's small steps one thread per
operation (kerasreg._engine.serial), as ``KERASREG_NUM_THREADS=1`` does for
the whole process. From
the repository root (``--threads 1``: both pools at one thread)::

    python -m benchmarks.probes.op_handoffs
    python -m benchmarks.probes.op_handoffs --threads 1
"""

import argparse
import time


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.probes.op_handoffs")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow's pools (0: its default)")
    a = p.parse_args(argv)
    import numpy as np

    from kerasreg._compat.startup import import_quietly

    tf = import_quietly("tensorflow")
    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    rng = np.random.default_rng(0)

    def const(*shape):
        return tf.constant(rng.random(shape, np.float32))

    def per_op_us(fn, n=1000):
        def body(i, total):
            return i + 1, total + fn()

        loop = tf.function(
            lambda: tf.while_loop(lambda i, _: i < n, body, (0, 0.0))[1], autograph=False
        )
        loop()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            loop()
            best = min(best, time.perf_counter() - t0)
        return best / n * 1e6

    def corner(t):  # a scalar that depends on t, so the op is not pruned
        return tf.reduce_sum(t[..., :1, :1])

    h, k = const(32, 64), const(64, 64)
    h3, k3 = const(3, 32, 64), const(3, 64, 64)
    x, idx = const(1024, 11), tf.constant(rng.permutation(1024)[:32].astype(np.int32))
    rows = [
        ("matmul 32x64 @ 64x64", lambda: corner(tf.matmul(h, k))),
        ("batched matmul, 3 folds", lambda: corner(tf.matmul(h3, k3))),
        ("gather 32 of 1,024 rows", lambda: corner(tf.gather(x, idx))),
        ("column sum of 32x64", lambda: tf.reduce_sum(tf.reduce_sum(h, axis=0)[:1])),
    ]

    def adam(size):
        var, m, v = (tf.Variable(tf.constant(rng.random(size, np.float32))) for _ in range(3))
        grad = const(size)

        def update():
            op = tf.raw_ops.ResourceApplyAdam(
                var=var.handle, m=m.handle, v=v.handle, beta1_power=0.9, beta2_power=0.999,
                lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7, grad=grad,
            )  # fmt: skip
            with tf.control_dependencies([op]):
                return tf.constant(0.0)

        return update

    for size in (256, 1024, 4096, 16384, 65536, 262144):
        rows.append((f"Adam's fused update, {size:,} elements", adam(size)))
    print(f"TensorFlow's pools: {a.threads or 'default'}; µs per operation (best of 5)")
    print(f"{'empty loop':40s} {per_op_us(lambda: tf.constant(0.0)):7.1f}")
    for name, fn in rows:
        print(f"{name:40s} {per_op_us(fn):7.1f}")


if __name__ == "__main__":
    main()
