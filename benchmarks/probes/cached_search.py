#!/usr/bin/env python
"""The benchmark's W3 search with and without the persistent XLA cache, each in a fresh process.

Runs ``GridSearchCV`` over W3's grid (widths 16, 64, 256 x depths 1-3 x
batch sizes 32, 256, cv=3, patience 10, at most 200 epochs, red wine's 70%
training part) in a fresh process per row, one after another: without
``KERASREG_XLA_CACHE``, then with an empty cache directory (the run fills
it), then again with that directory (the run loads). Each row prints the
search's wall time (TensorFlow's import included: it comes with the first
fit), the programs in the cache and the best CV MAE, which must be the same
in every row. From the repository root::

    python -m benchmarks.probes.cached_search            # n_jobs=1
    python -m benchmarks.probes.cached_search --n-jobs 2
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

_SEARCH = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from benchmarks.bench.harness import WineData, settings
from sklearn.model_selection import GridSearchCV
from kerasreg import DenseRegressor
cfg, d = settings(False), WineData()
search = GridSearchCV(
    DenseRegressor(patience=10, epochs=cfg["w3_epochs"], random_state=0), cfg["w3_grid"],
    cv=cfg["w3_cv"], scoring="neg_mean_absolute_error", n_jobs=int(sys.argv[1]),
)
t = time.perf_counter()
search.fit(d.X_tr, d.y_tr)
print(json.dumps({"wall": time.perf_counter() - t, "mae": -float(search.best_score_),
                  "best": search.best_params_}))
"""


def _run(n_jobs, cache):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("KERASREG_XLA_CACHE", None)
    if cache:
        env["KERASREG_XLA_CACHE"] = cache
    out = subprocess.run(
        [sys.executable, "-c", _SEARCH, str(n_jobs)], env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.probes.cached_search")
    p.add_argument("--n-jobs", type=int, default=1)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        for label, directory in (("no cache", None), ("empty cache", cache), ("filled", cache)):
            r = _run(a.n_jobs, directory)
            programs = len(glob.glob(os.path.join(cache, "*", "*.pb")))
            print(
                f"n_jobs={a.n_jobs} {label:>11}: {r['wall']:5.1f} s, {programs} programs cached,"
                f" best CV MAE {r['mae']:.4f} {r['best']}"
            )


if __name__ == "__main__":
    main()
