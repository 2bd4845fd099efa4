#!/usr/bin/env python
"""Whether a later process reuses the XLA cache whatever it traced before.

Each argument is one fresh process's fits, e.g. ``8x2,16x1`` (width x depth,
batches of 16, XLA): the processes run one after another on one empty
``KERASREG_XLA_CACHE`` and each prints how many programs the cache holds
after it. TensorFlow keys a program by its traced functions' names; with
TensorFlow's own names, which carry a number counted across the process, a
process that traced another depth first compiled again (``8x2,16x1`` after
``16x1``: 2 new); with kerasreg's (``_compat.tensorflow.stable_names``), 1
new, the 8x2 network's. From the repository root::

    python -m benchmarks.probes.xla_cache_order 16x1 8x2,16x1 8x1,8x2 16x1
"""

import glob
import os
import subprocess
import sys
import tempfile

_FITS = """
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np
from kerasreg import DenseRegressor
X = np.random.default_rng(0).random((500, 5))
for spec in sys.argv[1].split(","):
    width, depth = map(int, spec.split("x"))
    DenseRegressor(width=width, depth=depth, batch_size=16, epochs=2, jit_compile=True,
                   random_state=0, early_stopping=False).fit(X, X.sum(1))
"""


def main(argv=None):
    sequences = (argv if argv is not None else sys.argv[1:]) or ["16x1", "8x2,16x1", "16x1"]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KERASREG_XLA_CACHE": cache, "TF_CPP_MIN_LOG_LEVEL": "2"}
        before = 0
        for fits in sequences:
            subprocess.run([sys.executable, "-c", _FITS, fits], env=env, check=True)
            programs = len(glob.glob(os.path.join(cache, "*", "*.pb")))
            print(f"{fits:>20}: {programs} programs in the cache ({programs - before} new)")
            before = programs


if __name__ == "__main__":
    main()
