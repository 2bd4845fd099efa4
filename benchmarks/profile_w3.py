#!/usr/bin/env python
"""Where W3's kerasreg search spends its time: XLA compilations, traces, epochs.

Runs the benchmark's W3 search (GridSearchCV over width x depth x batch size,
cv=3, kerasreg's settings) once in this process, with TensorFlow imported
first, and splits its wall time by what the engine did: building workspaces,
tracing their programs, the first call of each program shape (XLA: compiling
or loading from ``KERASREG_XLA_CACHE``), the other calls (epochs), and the
rest (scikit-learn, scaling, Python). From the repository root::

    python benchmarks/profile_w3.py
    KERASREG_XLA_CACHE=/tmp/xla python benchmarks/profile_w3.py   # twice: cold, then warm
    python benchmarks/profile_w3.py --plain   # no XLA for any fit
    python benchmarks/profile_w3.py --xla     # XLA from 16 steps an epoch, however short the fit
"""

import collections
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python benchmarks/profile_w3.py")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="every fit a plain graph (no XLA)")
    mode.add_argument(
        "--xla",
        action="store_true",
        help="XLA for every fit of 16 or more steps an epoch, however few epochs it may run "
        "(the rule before settings.xla_min_fit_steps)",
    )
    a = p.parse_args(argv)
    import tensorflow as tf

    from benchmarks.bench.contenders import load
    from benchmarks.bench.harness import FULL, WineData
    from kerasreg._engine import XLA_BUDGET, tuned
    from kerasreg._engine.program import Workspace

    seconds, calls = collections.Counter(), collections.Counter()
    build, run = Workspace.__init__, Workspace.run_epochs
    seen = set()

    def timed_build(self, *args, **kwargs):
        t0 = time.perf_counter()
        build(self, *args, **kwargs)
        seconds["workspace builds"] += time.perf_counter() - t0
        calls["workspace builds"] += 1

    def timed_run(self, *args, **kwargs):
        if self._run is None:  # trace here, so that the first call's time is the compile's
            t0 = time.perf_counter()
            self._program = tf.function(self._epochs, jit_compile=self.xla, autograph=False)
            self._run = self._program.get_concrete_function(*self._epochs_signature)
            seconds["traces"] += time.perf_counter() - t0
            calls["traces"] += 1
        weights = tuple(tuple(v.read_value().shape) for v in self.weights)  # as loaded
        shape = (id(self), tuple(args[0].shape), weights)
        mode = "XLA" if self.xla else "plain graph"
        kind = f"first call of a shape, {mode}" if shape not in seen else f"other calls, {mode}"
        seen.add(shape)
        t0 = time.perf_counter()
        out = run(self, *args, **kwargs)
        calls["epochs"] += int(out[1].numpy()[0])
        seconds[kind] += time.perf_counter() - t0
        calls[kind] += 1
        return out

    Workspace.__init__, Workspace.run_epochs = timed_build, timed_run
    d = WineData()
    search, _ = load("kerasreg").search(FULL["w3_grid"], FULL["w3_cv"], FULL["w3_epochs"])
    # "auto" compiles small networks with XLA from settings.xla_min_steps
    # mini-batches an epoch and settings.xla_min_fit_steps a fit.
    rule = {}
    if a.plain:
        rule = dict(xla_min_steps=2**31, xla_min_macs=2**62)
    elif a.xla:
        rule = dict(xla_min_fit_steps=0)
    with warnings.catch_warnings(), tuned(**rule):
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        search.fit(d.X_tr, d.y_tr)
        wall = time.perf_counter() - t0
    cache = os.environ.get("KERASREG_XLA_CACHE")
    print(
        f"W3 kerasreg search: {wall:.1f} s, {len(XLA_BUDGET)} XLA programs, {calls['epochs']} "
        f"epochs, best CV MAE {-search.best_score_:.4f}; XLA cache: {cache or 'none'}"
        + ("; every fit a plain graph" if a.plain else "")
        + ("; XLA from 16 steps an epoch" if a.xla else "")
    )
    for kind, s in seconds.items():
        print(f"  {kind}: {s:.2f} s ({calls[kind]} calls)")
    print(f"  the rest (scikit-learn, scaling, Python): {wall - sum(seconds.values()):.2f} s")


if __name__ == "__main__":
    main()
