#!/usr/bin/env python
"""XLA or a plain graph per network: ms per epoch, and a first fit's extra seconds.

For each network (``WIDTHxDEPTHbBATCH``, red wine's 1,599 rows, no early
stopping), in this process after two tiny tanh fits (another structure: no
program shared) have started TensorFlow and XLA: the first fit with XLA and
with a plain graph minus the same fit repeated (trace, workspace and, for
XLA, the compile), then the best ms per epoch of three fits. ``--threads 1``
sets TensorFlow's thread pools first. From the repository root::

    python -m benchmarks.probes.xla_policy 16x1b32 64x2b32 256x3b256 512x3b256
"""

import argparse
import time
import warnings


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.probes.xla_policy")
    p.add_argument("networks", nargs="*", default=["16x1b32", "64x2b32", "256x3b256"])
    p.add_argument("--threads", type=int, default=0, help="TensorFlow's pools (0: its default)")
    p.add_argument("--epochs", type=int, default=30)
    a = p.parse_args(argv)
    warnings.simplefilter("ignore")
    import numpy as np

    from kerasreg._compat.startup import import_quietly

    tf = import_quietly("tensorflow")

    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    from kerasreg import DenseRegressor
    from kerasreg.datasets import load_red_wine

    d = load_red_wine()
    X, y = np.asarray(d.data, np.float32), np.asarray(d.target, np.float32)
    for jit in (False, True):
        DenseRegressor(width=4, depth=1, epochs=1, activation="tanh", jit_compile=jit).fit(X, y)

    def fit(width, depth, batch, jit, epochs):
        est = DenseRegressor(
            width=width, depth=depth, batch_size=batch, epochs=epochs, jit_compile=jit,
            early_stopping=False, random_state=0,
        )  # fmt: skip
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0

    for net in a.networks:
        shape, batch = net.split("b")
        width, depth = map(int, shape.split("x"))
        cells = []
        for jit in (True, False):
            first = fit(width, depth, int(batch), jit, 5) - fit(width, depth, int(batch), jit, 5)
            best = min(fit(width, depth, int(batch), jit, a.epochs) for _ in range(3))
            kind = "XLA" if jit else "plain"
            cells.append(f"{kind} {best / a.epochs * 1000:.2f} ms/epoch, first fit +{first:.2f} s")
        print(f"{net:>10} (threads {a.threads or 'default'}): " + "; ".join(cells))


if __name__ == "__main__":
    main()
