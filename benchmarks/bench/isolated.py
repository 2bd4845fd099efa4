"""Contenders that run in a process of their own: another Keras backend, PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, and PyTorch
and TensorFlow in one process fight over threads: such a contender's W1 / W2
fits run in a fresh ``python -m benchmarks.bench.isolated`` process, with
the environment it asks for. That process makes the warm-up fit (so its
"first fit" is a fresh process's, import and start-up excluded) and the
timed fits, and answers with all of them at once; the parent hands them out
one per call, so the report treats these contenders like the others. Only
the interleaving differs: an isolated contender's fits run back to back.
"""

import argparse
import os
import sys

from .contenders import DenseFit, load
from .harness import REPO, WineData, child_env, perf, print_json_line, run_worker

MODULE = "benchmarks.bench.isolated"


class IsolatedFit(DenseFit):
    """The parent's side: runs the worker once, then hands out its fits in order."""

    def __init__(self, contender, d, net, epochs, rounds):
        super().__init__(None, d, net, epochs)
        self.contender, self.rounds, self._fits = contender, rounds, None

    def __call__(self):
        if self._fits is None:
            env = {**child_env(), **self.contender.environment()}
            args = [self.contender.key, self.width, self.depth, self.batch_size, self.epochs]
            record = run_worker(MODULE, *args, self.rounds, env=env)
            if "error" in record:
                raise RuntimeError(record["error"])
            self._fits = [(s, info) for s, info in record["fits"]]
            self.import_s, self.lazy_import_s = record["import_s"], record["lazy_import_s"]
        return self._fits.pop(0)


def worker(key, width, depth, batch_size, epochs, rounds):
    """In the fresh process: the contender's local fits, timed; one JSON line."""
    contender = load(key)
    lazy_s = None
    if contender.lazy_import:
        # A library that imports its backend on the first fit: timed apart.
        t0 = perf()
        __import__(contender.lazy_import)
        lazy_s = perf() - t0
    t0 = perf()
    lib = contender.available()
    import_s = perf() - t0
    fit_class = getattr(contender, "local_fit_class", contender.fit_class)
    fit = fit_class(lib, WineData(), dict(
        width=width, depth=depth, batch_size=batch_size), epochs)  # fmt: skip
    with contender.quiet():
        fits = [fit() for _ in range(rounds)]
    print_json_line(dict(fits=fits, import_s=import_s, lazy_import_s=lazy_s))


def main(argv=None):
    p = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    for name in ("contender",):
        p.add_argument(name)
    for name in ("width", "depth", "batch_size", "epochs", "rounds"):
        p.add_argument(name, type=int)
    a = p.parse_args(argv)
    os.chdir(REPO)
    worker(a.contender, a.width, a.depth, a.batch_size, a.epochs, a.rounds)


if __name__ == "__main__":
    sys.exit(main())
