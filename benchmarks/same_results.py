#!/usr/bin/env python
"""Fit a fixed set of networks and record their predictions, to compare two checkouts bit for bit.

A restructuring must not change a single bit of what a fit with a fixed
``random_state`` produces. Run this on both checkouts (it fits the checkout it
lives in), then compare::

    python benchmarks/same_results.py --write /tmp/before.npz   # in the old checkout
    python benchmarks/same_results.py --write /tmp/after.npz    # in the new one
    python benchmarks/same_results.py --compare /tmp/before.npz /tmp/after.npz

Each configuration records its predictions on the training rows, its
``history_`` (loss, val_loss), ``n_iter_`` and ``best_epoch_``. It takes about a
minute on 2 cores.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

# Small networks and few epochs: every code path, not long training.
BASE = dict(width=16, depth=2, epochs=12, patience=3, random_state=0)
CONFIGS = {
    "defaults-small": {},
    "depth0-linear-unit": dict(depth=0),
    "depth1": dict(depth=1),
    "depth3-widths": dict(hidden_layer_sizes=(24, 12, 6)),
    "tanh": dict(activation="tanh"),
    "sigmoid": dict(activation="sigmoid"),
    "elu": dict(activation="elu"),
    "selu": dict(activation="selu"),
    "softplus": dict(activation="softplus"),
    "swish": dict(activation="swish"),
    "dropout": dict(dropout=0.3),
    "batch-norm": dict(batch_norm=True),
    "dropout-batch-norm": dict(dropout=0.2, batch_norm=True, activation="elu"),
    "sgd": dict(optimizer="sgd", learning_rate=0.05),
    "rmsprop": dict(optimizer="rmsprop"),
    "adamw": dict(optimizer="adamw", learning_rate=0.003),
    "mse": dict(loss="mse"),
    "huber": dict(loss="huber", batch_size=32),
    "batch-32-xla": dict(batch_size=32, jit_compile=True),
    "no-xla": dict(batch_size=32, jit_compile=False),
    "no-early-stopping": dict(early_stopping=False, epochs=6),
    "no-scaling": dict(scale_inputs=False, scale_target=False, learning_rate=0.01),
    "no-shuffle": dict(shuffle=False),
    "keep-last-weights": dict(restore_best_weights=False, min_delta=0.1),
    "validation-fraction": dict(validation_fraction=0.4),
}


def _data():
    from kerasreg.datasets import load_red_wine

    X, y = load_red_wine(return_X_y=True)
    return np.asarray(X)[:600], np.asarray(y)[:600]


def _record(out, name, est, X):
    out[f"{name}/predict"] = est.predict(X)
    out[f"{name}/history"] = est.history_[["loss", "val_loss"]].to_numpy()
    out[f"{name}/n_iter"] = np.array([est.n_iter_, est.best_epoch_])


def run():
    import keras

    from kerasreg import DenseRegressor

    X, y = _data()
    w = np.linspace(0.5, 2.0, len(X))
    out = {}
    for name, params in CONFIGS.items():
        est = DenseRegressor(**{**BASE, **params})
        _record(out, name, est.fit(X, y), X)
    # Sample weights and explicit validation rows.
    est = DenseRegressor(**BASE).fit(X[:400], y[:400], w[:400], X_val=X[400:], y_val=y[400:])
    _record(out, "weights-and-x-val", est, X)
    # Two outputs.
    Y = np.column_stack([y, X[:, 0]])
    _record(out, "two-outputs", DenseRegressor(**BASE).fit(X, Y), X)
    # Warm start: a second fit continues the first.
    est = DenseRegressor(**BASE, warm_start=True).fit(X, y)
    _record(out, "warm-start", est.fit(X, y), X)
    # Keras callbacks: a learning-rate schedule, and one that edits the weights.
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    est = DenseRegressor(**BASE, callbacks=[schedule]).fit(X, y)
    _record(out, "lr-schedule", est, X)

    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.set_weights([v * 0.5 for v in self.model.get_weights()])

    _record(out, "callback-sets-weights", DenseRegressor(**BASE, callbacks=[Halve()]).fit(X, y), X)
    return out


def compare(a_path, b_path):
    a, b = np.load(a_path), np.load(b_path)
    names = sorted(set(a.files) | set(b.files))
    bad = [
        n
        for n in names
        if n not in a or n not in b or not np.array_equal(a[n], b[n], equal_nan=True)
    ]
    for n in names:
        print(f"{'DIFFERENT' if n in bad else 'same     '} {n}")
    n_configs = len({n.split("/")[0] for n in names})
    print(f"{len(names) - len(bad)} of {len(names)} arrays equal bit for bit ({n_configs} fits)")
    return 1 if bad else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="NPZ")
    g.add_argument("--compare", nargs=2, metavar="NPZ")
    args = p.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.savez(args.write, **run())
    print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
