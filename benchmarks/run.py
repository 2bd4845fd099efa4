#!/usr/bin/env python
"""Benchmark kerasreg's DenseRegressor against the usual ways to train the same network.

Run from the repository root::

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # CI-sized run (~2-3 min on 2 cores), prints only

Workloads (see benchmarks/README.md and the notes printed with each table):

* W1  the seed's network (red wine, 3x512 ReLU, batch 256, Adam, MAE, 100 epochs,
      validation loss every epoch): ms/epoch and GFLOP/s vs a measured matmul peak.
* W2  a small network (width 16, depth 1, batch 32, 200 epochs): ms/epoch.
* W3  GridSearchCV with early stopping: total wall time and best CV MAE.
* W4  synthetic data at 10k / 100k / 1M rows: s/epoch, time per row, peak RSS
      (each size in a fresh subprocess: ``run.py --w4-worker N``).
* W5  the same GridSearchCV over width x depth with n_jobs=1 and n_jobs=2 (joblib's
      loky processes), each in a fresh subprocess: wall time, speed-up, same result.
* predict latency (1 row and 100k rows) and ``import kerasreg`` time.

Every contender whose package is missing is skipped with a note; an error in one
contender is reported in its row and never stops the run.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import contextlib
import datetime
import gc
import json
import platform
import re
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Benchmark the checkout this script lives in, installed or not.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

perf = time.perf_counter

# --------------------------------------------------------------------------- #
# Settings
# --------------------------------------------------------------------------- #

FULL = dict(
    w1_epochs=100,
    w2_epochs=200,
    w3_grid=dict(width=[16, 64, 256], depth=[1, 2, 3], batch_size=[32, 256]),
    w3_cv=3,
    w3_epochs=200,
    w4_sizes=[10_000, 100_000, 1_000_000],
    w4_epochs=2,
    predict_calls=200,
    predict_budget_s=60.0,
    predict_big=100_000,
    w5_grid=dict(width=[16, 64, 256], depth=[1, 2, 3]),
    w5_cv=3,
    w5_epochs=500,
)
QUICK = dict(
    w1_epochs=10,
    w2_epochs=10,
    w3_grid=dict(width=[16, 64], depth=[1, 2], batch_size=[256]),
    w3_cv=2,
    w3_epochs=30,
    w4_sizes=[10_000, 100_000],
    w4_epochs=2,
    predict_calls=200,
    predict_budget_s=3.0,
    predict_big=20_000,
    w5_grid=dict(width=[16, 64], depth=[1, 2]),
    w5_cv=2,
    w5_epochs=30,
)

W1_NET = dict(width=512, depth=3, batch_size=256)
W2_NET = dict(width=16, depth=1, batch_size=32)
W4_NET = dict(width=64, depth=2, batch_size=256)
W4_FEATURES = 20
# 16 batches of 256: the warm-up runs the XLA path the measured fits take (the
# engine compiles with XLA from 16 steps per epoch), so that XLA's one-time
# start-up is not counted in the first measured fit.
W4_WARMUP_ROWS = 4096
W4_REPEAT_S = 3.0
MATMUL_N = 2048

TARGETS = dict(
    w1_vs_keras=0.3,
    w1_vs_mlp=0.6,
    w1_peak_fraction=0.5,
    w2_vs_mlp=0.7,
    w3_vs_scikeras=0.2,
    w3_vs_mlp=1.0,
    w4_row_time_spread=1.5,
    w4_rss_ratio=3.0,
    import_s=0.3,
    predict_1row_ms=1.0,
    w5_parallel=1.0,
)


def _mlp_for_epochs(width, depth, batch_size, epochs):
    """MLPRegressor that runs exactly ``epochs`` epochs: no stopping on tol."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=(width,) * depth,
        batch_size=batch_size,
        max_iter=epochs,
        early_stopping=False,
        tol=0,
        n_iter_no_change=epochs,
        random_state=0,
    )


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Skipped(Exception):
    """A contender that cannot run here (package missing)."""


def require(module, package=None):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise Skipped(f"skipped: {package or module} not installed ({exc})") from None


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


# --------------------------------------------------------------------------- #
# Machine description
# --------------------------------------------------------------------------- #


def machine_description():
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    cores = f"{os.cpu_count()} logical CPUs, {usable} usable by this process"
    try:
        quota = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota and quota[0] != "max":
            cores += f", cgroup quota {int(quota[0]) / int(quota[1]):.1f} CPUs"
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    kerasreg_version = version("kerasreg")
    if kerasreg_version == "not installed":
        try:
            import kerasreg

            kerasreg_version = f"{getattr(kerasreg, '__version__', '?')} (from checkout)"
        except Exception:  # noqa: BLE001
            pass
    return {
        "Date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "CPU": cpu,
        "Cores": cores,
        "Memory": mem,
        "Load average (1, 5, 15 min) at start": load,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": version("scikit-learn"),
        "TensorFlow": version("tensorflow")
        if version("tensorflow") != "not installed"
        else version("tensorflow-cpu"),
        "Keras": version("keras"),
        "scikeras": version("scikeras"),
        "pandas": version("pandas"),
        "kerasreg": kerasreg_version,
    }


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #


class WineData:
    """Red wine, 70/30 split; raw arrays for kerasreg, [0, 1]-scaled ones for the rest."""

    def __init__(self):
        from sklearn.model_selection import train_test_split

        self.note = ""
        try:
            from kerasreg.datasets import load_red_wine

            X, y = load_red_wine(return_X_y=True)
        except ImportError as exc:  # while the package is being written
            import pandas as pd

            df = pd.read_csv(REPO / "kerasreg" / "datasets" / "data" / "red-wine.csv")
            X, y = df.drop(columns="quality"), df["quality"]
            self.note = f"(kerasreg.datasets unavailable: {exc}; read the CSV directly)"
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32).ravel()
        self.X_all, self.y_all = X, y
        self.X_tr, self.X_va, self.y_tr, self.y_va = train_test_split(
            X, y, test_size=0.3, random_state=0
        )
        # The Kaggle course's scaling: train min/max, applied to both parts, y too.
        x_min, x_max = self.X_tr.min(axis=0), self.X_tr.max(axis=0)
        self.x_min, self.x_max = x_min, x_max
        self.y_min, self.y_max = float(self.y_tr.min()), float(self.y_tr.max())
        self.Xs_tr = ((self.X_tr - x_min) / (x_max - x_min)).astype(np.float32)
        self.Xs_va = ((self.X_va - x_min) / (x_max - x_min)).astype(np.float32)
        self.ys_tr = self.scale_y(self.y_tr)
        self.ys_va = self.scale_y(self.y_va)
        self.n_features = X.shape[1]

    def scale_y(self, y):
        return ((y - self.y_min) / (self.y_max - self.y_min)).astype(np.float32)

    def unscale_y(self, ys):
        return np.asarray(ys, dtype=np.float64).ravel() * (self.y_max - self.y_min) + self.y_min

    def scale_x(self, X):
        return ((X - self.x_min) / (self.x_max - self.x_min)).astype(np.float32)


def macs(n_features, width, depth):
    sizes = [n_features] + [width] * depth + [1]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def epoch_flops(n_features, width, depth, n_train, n_val):
    """6 x MACs per training row (forward 2, backward 4) + 2 x MACs per validation row."""
    m = macs(n_features, width, depth)
    return 6 * m * n_train + 2 * m * n_val


# --------------------------------------------------------------------------- #
# Contenders for W1 / W2. Each factory returns fit(), which runs one full fit and
# returns (seconds, info). The first call is the warm-up fit; later calls are
# timed fits that reuse what the library lets a user reuse (see notes).
# --------------------------------------------------------------------------- #


def build_keras_model(keras, n_features, width, depth, compiled=True):
    """The seed's network: Sequential, Dense ReLU layers, Dense(1), Adam, MAE."""
    from keras import layers

    model = keras.Sequential(
        [layers.Input((n_features,))]
        + [layers.Dense(width, activation="relu") for _ in range(depth)]
        + [layers.Dense(1)]
    )
    if compiled:
        model.compile(optimizer="adam", loss="mae")
    return model


def contender_kerasreg(d, width, depth, batch_size, epochs):
    kerasreg = require("kerasreg")
    DenseRegressor = kerasreg.DenseRegressor
    state = {}

    def fit():
        est = DenseRegressor(
            width=width,
            depth=depth,
            batch_size=batch_size,
            epochs=epochs,
            early_stopping=False,
            random_state=0,
        )
        t0 = perf()
        est.fit(d.X_tr, d.y_tr, validation_data=(d.X_va, d.y_va))
        seconds = perf() - t0
        state["model"] = est
        pred = np.asarray(est.predict(d.X_va), dtype=np.float64).ravel()
        return seconds, dict(
            epochs=int(getattr(est, "n_iter_", epochs)),
            val_mae=float(np.mean(np.abs(pred - d.y_va))),
            validates=True,
        )

    fit.state = state
    fit.note = "new DenseRegressor per fit; scales X and y itself"
    return fit


def contender_keras(d, width, depth, batch_size, epochs):
    keras = require("keras")
    state = {}

    def fit():
        t0 = perf()
        if "model" not in state:
            keras.utils.set_random_seed(0)
            state["model"] = build_keras_model(keras, d.n_features, width, depth)
        model = state["model"]
        hist = model.fit(
            d.Xs_tr,
            d.ys_tr,
            validation_data=(d.Xs_va, d.ys_va),
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
        )
        seconds = perf() - t0
        pred = d.unscale_y(model.predict(d.Xs_va, verbose=0))
        return seconds, dict(
            epochs=len(hist.history["loss"]),
            val_mae=float(np.mean(np.abs(pred - d.y_va))),
            validates="val_loss" in hist.history,
        )

    fit.state = state
    fit.note = "seed's code; timed fit re-runs model.fit on the same compiled model"
    return fit


def contender_scikeras(d, width, depth, batch_size, epochs):
    keras = require("keras")
    wrappers = require("scikeras.wrappers", "scikeras")
    state = {}

    def build(width, depth, meta):
        return build_keras_model(keras, meta["n_features_in_"], width, depth, compiled=False)

    def fit():
        if "est" not in state:
            keras.utils.set_random_seed(0)
            state["est"] = wrappers.KerasRegressor(
                model=build,
                model__width=width,
                model__depth=depth,
                optimizer="adam",
                loss="mae",
                batch_size=batch_size,
                epochs=epochs,
                verbose=0,
                fit__validation_data=(d.Xs_va, d.ys_va),
            )
        else:
            state["est"].set_params(warm_start=True)
        est = state["est"]
        t0 = perf()
        est.fit(d.Xs_tr, d.ys_tr)
        seconds = perf() - t0
        state["model"] = est
        pred = d.unscale_y(est.predict(d.Xs_va))
        return seconds, dict(
            epochs=len(est.history_["loss"]),
            val_mae=float(np.mean(np.abs(pred - d.y_va))),
            validates="val_loss" in est.history_,
        )

    fit.state = state
    fit.note = (
        "validation via `fit__validation_data=(X_va, y_va)`; "
        "timed fit uses warm_start=True to keep the compiled model"
    )
    return fit


def contender_keras_wrapper(d, width, depth, batch_size, epochs):
    keras = require("keras")
    try:
        from keras.wrappers import SKLearnRegressor
    except ImportError:
        raise Skipped("skipped: keras.wrappers.SKLearnRegressor needs Keras >= 3.5") from None
    state = {}

    def build(X, y, width, depth):
        return build_keras_model(keras, X.shape[1], width, depth)

    def fit():
        keras.utils.set_random_seed(0)
        est = SKLearnRegressor(
            model=build,
            model_kwargs=dict(width=width, depth=depth),
            fit_kwargs=dict(batch_size=batch_size, epochs=epochs, verbose=0),
        )
        t0 = perf()
        est.fit(d.Xs_tr, d.ys_tr, validation_data=(d.Xs_va, d.ys_va))
        seconds = perf() - t0
        pred = d.unscale_y(est.model_.predict(d.Xs_va, verbose=0))
        hist = est.history_.history
        return seconds, dict(
            epochs=len(hist["loss"]),
            val_mae=float(np.mean(np.abs(pred - d.y_va))),
            validates="val_loss" in hist,
        )

    fit.state = state
    fit.note = (
        "validation via `fit(..., validation_data=...)`; the wrapper builds and "
        "traces a new model on every fit (its warm_start is not used by fit), "
        "so its timed fit includes that"
    )
    return fit


def contender_mlp(d, width, depth, batch_size, epochs):
    require("sklearn", "scikit-learn")
    from sklearn.exceptions import ConvergenceWarning

    state = {}

    def fit():
        est = _mlp_for_epochs(width, depth, batch_size, epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = perf()
            est.fit(d.Xs_tr, d.ys_tr)
            seconds = perf() - t0
        state["model"] = est
        pred = d.unscale_y(est.predict(d.Xs_va))
        return seconds, dict(
            epochs=int(est.n_iter_),
            val_mae=float(np.mean(np.abs(pred - d.y_va))),
            validates=False,
        )

    fit.state = state
    fit.note = "squared loss (not MAE), L2 alpha=1e-4, no validation loss [a]"
    return fit


CONTENDERS = [
    ("kerasreg DenseRegressor", contender_kerasreg),
    ("Keras model.fit (seed code)", contender_keras),
    ("scikeras KerasRegressor", contender_scikeras),
    ("keras.wrappers.SKLearnRegressor", contender_keras_wrapper),
    ("sklearn MLPRegressor", contender_mlp),
]


def run_dense_workload(d, net, epochs, timed_rounds=1):
    """Warm-up fit for every contender, then the timed fit(s), interleaved."""
    width, depth, batch_size = net["width"], net["depth"], net["batch_size"]
    fits, results = {}, {}
    for name, factory in CONTENDERS:
        try:
            fits[name] = factory(d, width, depth, batch_size, epochs)
            results[name] = dict(note=fits[name].note)
        except Skipped as exc:
            results[name] = dict(skipped=str(exc))
            log(f"  {name}: {exc}")
    for rnd in range(1 + timed_rounds):
        for name, fit in fits.items():
            if "error" in results[name]:
                continue
            try:
                gc.collect()
                seconds, info = fit()
            except Exception as exc:  # noqa: BLE001
                results[name]["error"] = f"{type(exc).__name__}: {exc}"
                log(f"  {name}: ERROR\n{traceback.format_exc()}")
                continue
            r = results[name]
            if rnd == 0:
                # Quality from the first fit: a fresh model trained `epochs` epochs for
                # everyone (Keras and scikeras re-fits continue from trained weights).
                r["first_fit_s"], r["val_mae"] = seconds, info.pop("val_mae")
            else:
                r.setdefault("timed_s", []).append(seconds)
                info.pop("val_mae")
                r.update(info)
            log(f"  {name}: fit {rnd + 1}: {seconds:.2f} s ({info['epochs']} epochs)")
    for r in results.values():
        if "timed_s" in r:
            r["fit_s"], r["n_timed"] = min(r["timed_s"]), len(r["timed_s"])
            r["ms_per_epoch"] = 1000 * r["fit_s"] / max(r["epochs"], 1)
            n_val = len(d.y_va) if r["validates"] else 0
            r["gflops"] = (
                epoch_flops(d.n_features, width, depth, len(d.y_tr), n_val)
                / (r["ms_per_epoch"] / 1000)
                / 1e9
            )
    models = {name: fits[name].state.get("model") for name in fits}
    return results, models


# --------------------------------------------------------------------------- #
# Matmul peak
# --------------------------------------------------------------------------- #


def matmul_peak(n=MATMUL_N, repeats=10):
    flops = 2 * n**3
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = {}
    a @ b
    best = min(_timeit(lambda: a @ b) for _ in range(repeats))
    out["numpy"] = flops / best / 1e9
    try:
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)

        @tf.function
        def mm(x, y):
            return tf.reduce_sum(tf.matmul(x, y)[:1, :1])

        mm(ta, tb).numpy()
        best = min(_timeit(lambda: mm(ta, tb).numpy()) for _ in range(repeats))
        out["tf"] = flops / best / 1e9
    except ImportError:
        pass
    return out


def _timeit(fn):
    t0 = perf()
    fn()
    return perf() - t0


# --------------------------------------------------------------------------- #
# W3: GridSearchCV with early stopping
# --------------------------------------------------------------------------- #


def w3_kerasreg(X, y, grid, cv, epochs):
    kerasreg = require("kerasreg")
    from sklearn.model_selection import GridSearchCV

    est = kerasreg.DenseRegressor(patience=10, epochs=epochs, random_state=0)
    return GridSearchCV(est, grid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1), (
        lambda p: p
    )


def w3_scikeras(X, y, grid, cv, epochs):
    keras = require("keras")
    wrappers = require("scikeras.wrappers", "scikeras")
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    def build(width, depth, meta):
        return build_keras_model(keras, meta["n_features_in_"], width, depth, compiled=False)

    keras.utils.set_random_seed(0)
    reg = wrappers.KerasRegressor(
        model=build,
        model__width=16,
        model__depth=1,
        optimizer="adam",
        loss="mae",
        batch_size=256,
        epochs=epochs,
        verbose=0,
        validation_split=0.2,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=10, min_delta=0.001, restore_best_weights=True
            )
        ],
    )
    pipe = Pipeline([("scale", MinMaxScaler()), ("keras", reg)])
    ttr = TransformedTargetRegressor(regressor=pipe, transformer=MinMaxScaler())
    pgrid = {
        "regressor__keras__model__width": grid["width"],
        "regressor__keras__model__depth": grid["depth"],
        "regressor__keras__batch_size": grid["batch_size"],
    }

    def simplify(p):
        return dict(
            width=p["regressor__keras__model__width"],
            depth=p["regressor__keras__model__depth"],
            batch_size=p["regressor__keras__batch_size"],
        )

    return GridSearchCV(ttr, pgrid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1), simplify


def w3_mlp(X, y, grid, cv, epochs):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    mlp = MLPRegressor(
        early_stopping=True,
        n_iter_no_change=10,
        max_iter=epochs,
        validation_fraction=0.2,
        random_state=0,
    )
    pipe = Pipeline([("scale", MinMaxScaler()), ("mlp", mlp)])
    ttr = TransformedTargetRegressor(regressor=pipe, transformer=MinMaxScaler())
    pgrid = {
        "regressor__mlp__hidden_layer_sizes": [
            (w,) * dep for w in grid["width"] for dep in grid["depth"]
        ],
        "regressor__mlp__batch_size": grid["batch_size"],
    }

    def simplify(p):
        h = p["regressor__mlp__hidden_layer_sizes"]
        return dict(width=h[0], depth=len(h), batch_size=p["regressor__mlp__batch_size"])

    return GridSearchCV(ttr, pgrid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1), simplify


# kerasreg and MLPRegressor (the ratio target) run back to back, so that a
# shared machine's drift over scikeras's minutes does not come between them.
W3_CONTENDERS = [
    (
        "kerasreg DenseRegressor",
        w3_kerasreg,
        "patience=10, min_delta=0.001, restore_best_weights, validation_fraction=0.2 (defaults)",
    ),
    (
        "sklearn MLPRegressor",
        w3_mlp,
        "TransformedTargetRegressor(Pipeline(MinMaxScaler, MLPRegressor), MinMaxScaler); "
        "early_stopping=True, n_iter_no_change=10, validation_fraction=0.2, tol=1e-4 on "
        "validation R^2, squared loss",
    ),
    (
        "scikeras KerasRegressor",
        w3_scikeras,
        "TransformedTargetRegressor(Pipeline(MinMaxScaler, KerasRegressor), MinMaxScaler); "
        "EarlyStopping(patience=10, min_delta=0.001, restore_best_weights=True), "
        "validation_split=0.2 (last 20% of each training fold)",
    ),
]


def run_w3(d, cfg):
    from sklearn.exceptions import ConvergenceWarning

    grid, cv, epochs = cfg["w3_grid"], cfg["w3_cv"], cfg["w3_epochs"]
    results = {}
    for name, factory, note in W3_CONTENDERS:
        try:
            search, simplify = factory(d.X_tr, d.y_tr, grid, cv, epochs)
        except Skipped as exc:
            results[name] = dict(skipped=str(exc))
            log(f"  {name}: {exc}")
            continue
        r = results[name] = dict(note=note)
        gc.collect()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = perf()
                search.fit(d.X_tr, d.y_tr)
                r["wall_s"] = perf() - t0
        except Exception as exc:  # noqa: BLE001
            r["error"] = f"{type(exc).__name__}: {exc}"
            log(f"  {name}: ERROR\n{traceback.format_exc()}")
            continue
        r["best_mae"] = -float(search.best_score_)
        r["best_params"] = simplify(search.best_params_)
        r["n_fits"] = len(search.cv_results_["params"]) * cv + 1
        pred = np.asarray(search.predict(d.X_va), dtype=np.float64).ravel()
        r["holdout_mae"] = float(np.mean(np.abs(pred - d.y_va)))
        log(f"  {name}: {r['wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}")
    return results


# --------------------------------------------------------------------------- #
# W5: the same search with n_jobs=1 and n_jobs=2, each in a fresh process
# --------------------------------------------------------------------------- #


def w5_worker(n_jobs, quick):
    """Runs in a fresh process (TensorFlow not loaded yet); prints one JSON line."""
    t_process = perf()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from kerasreg import DenseRegressor

    cfg = QUICK if quick else FULL
    d = WineData()
    search = GridSearchCV(
        DenseRegressor(epochs=cfg["w5_epochs"], random_state=0),
        cfg["w5_grid"],
        cv=cfg["w5_cv"],
        scoring="neg_mean_absolute_error",
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = perf()
        search.fit(d.X_tr, d.y_tr)
        wall = perf() - t0
    print(
        json.dumps(
            dict(
                n_jobs=n_jobs,
                wall_s=wall,
                process_s=perf() - t_process,
                best_params=search.best_params_,
                best_mae=-float(search.best_score_),
                mean_test_score=[float(v) for v in search.cv_results_["mean_test_score"]],
            )
        )
    )


def run_w5(cfg, quick):
    results = {}
    for n_jobs in (1, 2):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--w5-worker", str(n_jobs)]
        proc = subprocess.run(
            cmd + (["--quick"] if quick else []), capture_output=True, text=True, env=_child_env()
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            results[n_jobs] = dict(error=" / ".join(tail) or f"exit {proc.returncode}")
            log(f"  n_jobs={n_jobs}: ERROR {results[n_jobs]['error']}")
            continue
        results[n_jobs] = r = json.loads(proc.stdout.strip().splitlines()[-1])
        log(f"  n_jobs={n_jobs}: {r['wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}")
    return results


def report_w5(d, cfg, results):
    grid, cv = cfg["w5_grid"], cfg["w5_cv"]
    one = results.get(1) or {}
    rows = []
    for n_jobs in (1, 2):
        r = results.get(n_jobs)
        bad = status_cell(r)
        if bad:
            rows.append([n_jobs, "–", "–", "–", "–", "–", bad])
            continue
        same = (
            "–"
            if n_jobs == 1 or "mean_test_score" not in one
            else ("yes" if r["mean_test_score"] == one["mean_test_score"] else "NO")
        )
        bp = r["best_params"]
        rows.append(
            [
                n_jobs,
                fmt(r["wall_s"], ".1f"),
                fmt(r["process_s"], ".1f"),
                fmt(one["wall_s"] / r["wall_s"], ".2f") + "×" if one.get("wall_s") else "–",
                fmt(r["best_mae"], ".4f"),
                f"width {bp['width']}, depth {bp['depth']}",
                same,
            ]
        )
    n_cand = len(grid["width"]) * len(grid["depth"])
    return "\n".join(
        [
            "### W5: parallel search (n_jobs=1 vs n_jobs=2)",
            "",
            f"`GridSearchCV(DenseRegressor(epochs={cfg['w5_epochs']}, random_state=0), "
            f"cv={cv}, scoring='neg_mean_absolute_error', n_jobs=N)` over width "
            f"{grid['width']} × depth {grid['depth']} ({n_cand} candidates, {n_cand * cv} CV "
            "fits + 1 refit; early stopping with the defaults: patience 20, min_delta 0.001, "
            f"validation_fraction 0.1) on the red wine 70% training part ({len(d.y_tr)} rows). "
            "Each n_jobs runs in a fresh process (`run.py --w5-worker N`), so both pay for "
            "loading TensorFlow: n_jobs=2 in each of its two loky workers, where each worker "
            "also builds every architecture it meets.",
            "",
            md_table(
                [
                    "n_jobs",
                    "search wall (s)",
                    "process wall (s)",
                    "speed-up vs n_jobs=1",
                    "best CV MAE",
                    "best params",
                    "same scores as n_jobs=1",
                ],
                rows,
            ),
        ]
    )


# --------------------------------------------------------------------------- #
# W4: scale, one fresh subprocess per size
# --------------------------------------------------------------------------- #


def _proc_status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def w4_worker(n, epochs, contender):
    """Runs in a fresh process; prints one JSON line."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=n, n_features=W4_FEATURES, noise=10.0, random_state=0)
    X, y = X.astype(np.float32), y.astype(np.float32)
    gc.collect()
    width, depth, batch_size = W4_NET["width"], W4_NET["depth"], W4_NET["batch_size"]
    if contender == "kerasreg":
        from kerasreg import DenseRegressor

        def make(ep):
            return DenseRegressor(
                width=width,
                depth=depth,
                batch_size=batch_size,
                epochs=ep,
                early_stopping=False,
                random_state=0,
            )
    else:
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", ConvergenceWarning)

        def make(ep):
            return _mlp_for_epochs(width, depth, batch_size, ep)

    # Warm-up on a small slice: imports, thread pools, tracing of the training step.
    make(1).fit(X[:W4_WARMUP_ROWS], y[:W4_WARMUP_ROWS])
    gc.collect()
    have_reset = _reset_peak_rss()
    base_kib = _proc_status_kib("VmRSS")
    t0 = perf()
    est = make(epochs).fit(X, y)
    fit1 = perf() - t0
    if have_reset:
        peak_kib = _proc_status_kib("VmHWM")
        method = "VmHWM after fit (reset via /proc/self/clear_refs) - VmRSS before fit"
    else:
        import resource

        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss after fit - VmRSS before fit (peak may predate the fit)"
    epochs_run = int(getattr(est, "n_iter_", epochs))
    del est
    # More fits, for a best-of time that a busy machine disturbs less: at least two in
    # all, up to five while they take under W4_REPEAT_S together.
    fits, peak2_kib, base2_kib = [fit1], None, None
    while len(fits) < 2 or (len(fits) < 5 and sum(fits) < W4_REPEAT_S):
        gc.collect()
        if len(fits) == 1 and have_reset:
            _reset_peak_rss()
            base2_kib = _proc_status_kib("VmRSS")
        t0 = perf()
        make(epochs).fit(X, y)
        fits.append(perf() - t0)
        if len(fits) == 2 and have_reset:
            peak2_kib = _proc_status_kib("VmHWM")
    print(
        json.dumps(
            dict(
                n=n,
                contender=contender,
                epochs=epochs_run,
                fit1_s=fit1,
                best_fit_s=min(fits),
                n_fits=len(fits),
                input_bytes=int(X.nbytes + y.nbytes),
                base_kib=base_kib,
                peak_kib=peak_kib,
                base2_kib=base2_kib,
                peak2_kib=peak2_kib,
                rss_method=method,
            )
        )
    )


def run_w4(cfg, contenders):
    results = {}
    for contender in contenders:
        for n in cfg["w4_sizes"]:
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--w4-worker",
                str(n),
                "--w4-epochs",
                str(cfg["w4_epochs"]),
                "--w4-contender",
                contender,
            ]
            t0 = perf()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env())
            key = (contender, n)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                results[key] = dict(error=" / ".join(tail) or f"exit {proc.returncode}")
                log(f"  {contender} n={n}: ERROR {results[key]['error']}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["s_per_epoch_1"] = r["fit1_s"] / r["epochs"]
            r["s_per_epoch"] = r["best_fit_s"] / r["epochs"]
            r["us_per_row"] = 1e6 * r["s_per_epoch"] / n
            r["peak_extra_bytes"] = (r["peak_kib"] - r["base_kib"]) * 1024
            r["rss_ratio"] = r["peak_extra_bytes"] / r["input_bytes"]
            if r.get("peak2_kib") is not None:
                r["rss_ratio_2"] = (r["peak2_kib"] - r["base2_kib"]) * 1024 / r["input_bytes"]
            results[key] = r
            log(
                f"  {contender} n={n}: {r['s_per_epoch']:.3f} s/epoch, "
                f"RSS x{r['rss_ratio']:.2f} input ({perf() - t0:.0f} s incl. process start)"
            )
    return results


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


# --------------------------------------------------------------------------- #
# Predict latency and import time
# --------------------------------------------------------------------------- #


def run_predict(d, models, cfg):
    """models: W1's fitted models by contender name (a quick 2-epoch fit if W1 did not run)."""
    rng = np.random.default_rng(0)
    X_big = rng.uniform(d.x_min, d.x_max, size=(cfg["predict_big"], d.n_features)).astype(
        np.float32
    )
    Xs_big = d.scale_x(X_big)
    x1, xs1 = d.X_va[:1], d.Xs_va[:1]
    calls = []
    kr = models.get("kerasreg DenseRegressor")
    if kr is not None:
        calls.append(("kerasreg predict", lambda x: kr.predict(x), x1, X_big))
    km = models.get("Keras model.fit (seed code)")
    if km is not None:
        calls.append(("Keras model.predict", lambda x: km.predict(x, verbose=0), xs1, Xs_big))
        calls.append(("Keras model(x)", lambda x: np.asarray(km(x)), xs1, Xs_big))
    mlp = models.get("sklearn MLPRegressor")
    if mlp is not None:
        calls.append(("sklearn MLPRegressor predict", lambda x: mlp.predict(x), xs1, Xs_big))
    results = {}
    for name, fn, one, big in calls:
        try:
            fn(one)
            times, t_end = [], perf() + cfg["predict_budget_s"]
            while len(times) < cfg["predict_calls"]:
                times.append(_timeit(lambda fn=fn, one=one: fn(one)))
                # Only slow calls stop early, and never kerasreg's: it is the target.
                if len(times) >= 20 and perf() > t_end and not name.startswith("kerasreg"):
                    break
            fn(big)
            big_best = min(_timeit(lambda fn=fn, big=big: fn(big)) for _ in range(3))
        except Exception as exc:  # noqa: BLE001
            results[name] = dict(error=f"{type(exc).__name__}: {exc}")
            log(f"  {name}: ERROR\n{traceback.format_exc()}")
            continue
        results[name] = dict(
            one_ms=1000 * statistics.median(times), big_s=big_best, calls=len(times)
        )
        log(
            f"  {name}: 1 row {results[name]['one_ms']:.3f} ms, "
            f"{cfg['predict_big']} rows {big_best:.3f} s"
        )
    return results


IMPORT_PROBE = (
    "import sys, time; t = time.perf_counter(); {stmt}; t = time.perf_counter() - t; "
    "print(t, *(m in sys.modules for m in ('tensorflow', 'keras', 'sklearn', 'pandas')))"
)


def _time_import(stmt, repeats=3):
    """Best of `repeats` fresh processes: (seconds inside the process, process wall, flags)."""
    best, wall, flags = None, None, None
    for _ in range(repeats):
        t0 = perf()
        proc = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE.format(stmt=stmt)],
            capture_output=True,
            text=True,
            env=_child_env(),
        )
        w = perf() - t0
        if proc.returncode != 0:
            raise RuntimeError((proc.stderr.strip().splitlines() or ["?"])[-1])
        t, *f = proc.stdout.split()
        best = float(t) if best is None else min(best, float(t))
        wall = w if wall is None else min(wall, w)
        names = ("tensorflow", "keras", "sklearn", "pandas")
        flags = dict(zip(names, (x == "True" for x in f), strict=True))
    return best, wall, flags


def run_import(ref_repeats=3):
    stmt = "import kerasreg; kerasreg.DenseRegressor()"
    try:
        full, wall, flags = _time_import(stmt)
        bare, _, bare_flags = _time_import("import kerasreg")
    except RuntimeError as exc:
        return dict(error=str(exc), import_s=None, tf_loaded=None)
    ref = {}
    for mod in ("numpy", "sklearn.base", "pandas"):
        with contextlib.suppress(RuntimeError):
            ref[mod] = _time_import(f"import {mod}", ref_repeats)[0]
    # Where the time goes: top-level imports by cumulative time, one -X importtime run.
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", stmt],
        capture_output=True,
        text=True,
        env=_child_env(),
    )
    top = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if name.startswith(" ") and not name.startswith("   "):  # top level only
                top.append((int(parts[1]) / 1e6, name.strip()))
    top.sort(reverse=True)
    return dict(
        import_s=full,
        process_wall_s=wall,
        bare_import_s=bare,
        tf_loaded=flags["tensorflow"],
        flags=flags,
        bare_flags=bare_flags,
        reference=ref,
        ref_repeats=ref_repeats,
        top=top[:6],
        error=None,
    )


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


_NUMBER = re.compile(r"^(–|[\d.,]+( ?[×%]| \(\d+\))?)$")


def md_table(headers, rows):
    """A markdown table; columns holding only numbers (or –) are right-aligned."""
    rows = [[str(c) for c in row] for row in rows]

    def align(i):
        cells = [row[i] for row in rows if i < len(row)]
        numeric = cells and all(_NUMBER.match(c) for c in cells) and any(c != "–" for c in cells)
        return "---:" if numeric else "---"

    out = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(align(i) for i in range(len(headers))) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def fmt(x, spec=".1f", missing="–"):
    return missing if x is None else format(x, spec)


def status_cell(r):
    if r is None:
        return "not run"
    if "skipped" in r:
        return r["skipped"]
    if "error" in r:
        return "error: " + r["error"][:200].replace("|", "/").replace("\n", " ")
    return None


def report_dense(title, d, net, epochs, results, peak=None):
    base = results.get("kerasreg DenseRegressor", {}).get("ms_per_epoch")
    n_timed = max([r.get("n_timed", 1) for r in results.values()] + [1])
    rows = []
    for name, _ in CONTENDERS:
        r = results.get(name)
        bad = status_cell(r)
        if bad:
            rows.append([name] + ["–"] * 6 + [bad])
            continue
        ratio = r["ms_per_epoch"] / base if base else None
        rows.append(
            [
                name,
                fmt(r["first_fit_s"], ".2f"),
                fmt(r["ms_per_epoch"], ".2f"),
                fmt(ratio, ".2f") + "×" if ratio else "–",
                fmt(r["gflops"], ".1f"),
                fmt(r["val_mae"], ".3f"),
                "every epoch" if r["validates"] else "none [a]",
                r["note"],
            ]
        )
    m = macs(d.n_features, net["width"], net["depth"])
    text = [
        f"### {title}",
        "",
        f"{net['depth']}×{net['width']} ReLU, batch {net['batch_size']}, Adam (lr 0.001), "
        f"MAE, {epochs} epochs, no early stopping; red wine 70/30 split "
        f"({len(d.y_tr)} training rows, {len(d.y_va)} validation rows), X and y scaled to "
        f"[0, 1] with the training part's min/max.",
        "",
        md_table(
            [
                "contender",
                "first fit (s)",
                "ms/epoch",
                "time vs kerasreg",
                "GFLOP/s",
                "val MAE (quality pts)",
                "validation loss",
                "notes",
            ],
            rows,
        ),
        "",
        "ms/epoch = wall time of one complete timed `fit` ÷ epochs run"
        + (f" (best of {n_timed} timed fits, `--repeat {n_timed}`)" if n_timed > 1 else "")
        + ". Every contender first "
        "does a warm-up fit (its wall time is the 'first fit' column: building, tracing, "
        "compiling and the run itself), then the timed fit, so one-time tracing is left out "
        "of ms/epoch for all; contenders are interleaved (all warm-up fits, then all timed "
        "fits). "
        "'time vs kerasreg' = contender ms/epoch ÷ kerasreg ms/epoch (> 1: kerasreg is faster). "
        f"GFLOP/s counts MACs = Σ fan_in·fan_out = {m:,} per row, FLOPs/epoch = "
        "6·MACs·n_train (forward 2, backward 4) + 2·MACs·n_val (validation forward; "
        "n_val = 0 for MLPRegressor); biases, activations and the optimizer are not counted. "
        "val MAE is each model's mean absolute error on the validation part after its first "
        "fit (a fresh model trained for the stated epochs), in quality points.",
    ]
    if peak:
        text += [
            "",
            "Measured fp32 matmul peak on this machine "
            f"({MATMUL_N}×{MATMUL_N}, best of 10 before and 10 after W1): "
            + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peak.items())
            + f"; the higher, {max(peak.values()):.1f} GFLOP/s, is the reference.",
        ]
    return "\n".join(text)


def report_w3(d, cfg, results):
    grid = cfg["w3_grid"]
    base = results.get("kerasreg DenseRegressor", {}).get("wall_s")
    rows = []
    for name, _, _ in W3_CONTENDERS:
        r = results.get(name)
        bad = status_cell(r)
        if bad:
            rows.append([name, "–", "–", "–", "–", "–", bad])
            continue
        bp = r["best_params"]
        rows.append(
            [
                name,
                fmt(r["wall_s"], ".1f"),
                fmt(r["wall_s"] / base, ".2f") + "×" if base else "–",
                fmt(r["best_mae"], ".4f"),
                f"width {bp['width']}, depth {bp['depth']}, batch {bp['batch_size']}",
                fmt(r["holdout_mae"], ".4f"),
                r["note"],
            ]
        )
    n_cand = len(grid["width"]) * len(grid["depth"]) * len(grid["batch_size"])
    return "\n".join(
        [
            "### W3: GridSearchCV with early stopping",
            "",
            f"`GridSearchCV(cv={cfg['w3_cv']}, scoring='neg_mean_absolute_error', n_jobs=1)` "
            f"over width {grid['width']} × depth {grid['depth']} × batch_size "
            f"{grid['batch_size']} ({n_cand} candidate{'s' if n_cand > 1 else ''}, "
            f"{n_cand * cfg['w3_cv']} CV fits + 1 refit), early stopping with patience 10 and "
            f"at most {cfg['w3_epochs']} epochs, on "
            f"the red wine 70% training part ({len(d.y_tr)} rows; raw X and y, each contender "
            "scales its own). MAE is in quality points for everyone.",
            "",
            md_table(
                [
                    "contender",
                    "wall (s)",
                    "time vs kerasreg",
                    "best CV MAE",
                    "best params",
                    "hold-out MAE",
                    "settings",
                ],
                rows,
            ),
            "",
            "wall = one `GridSearchCV.fit` including the refit on the whole training part, "
            "in the order of the table (kerasreg and MLPRegressor back to back); "
            "hold-out MAE = the refitted best model on the 30% part.",
        ]
    )


def report_w4(cfg, results, contenders):
    rows = []
    for contender in contenders:
        for n in cfg["w4_sizes"]:
            r = results.get((contender, n))
            if r is None:
                continue
            if "error" in r:
                rows.append([contender, f"{n:,}"] + ["–"] * 7 + ["error: " + r["error"][:200]])
                continue
            rows.append(
                [
                    contender,
                    f"{n:,}",
                    fmt(r["s_per_epoch_1"], ".3f"),
                    fmt(r["s_per_epoch"], ".3f") + f" ({r['n_fits']})",
                    fmt(r["us_per_row"], ".2f"),
                    fmt(r["input_bytes"] / 2**20, ".1f"),
                    fmt(r["peak_extra_bytes"] / 2**20, ".1f"),
                    fmt(r["rss_ratio"], ".2f") + "×",
                    fmt(r.get("rss_ratio_2"), ".2f") + ("×" if "rss_ratio_2" in r else ""),
                    "",
                ]
            )
    method = next((r["rss_method"] for r in results.values() if "rss_method" in r), "–")
    return "\n".join(
        [
            "### W4: scale (synthetic data)",
            "",
            f"`make_regression(n_samples=N, n_features={W4_FEATURES}, noise=10, random_state=0)` "
            f"as float32; {W4_NET['depth']}×{W4_NET['width']} ReLU, batch {W4_NET['batch_size']}, "
            f"{cfg['w4_epochs']} epochs, early_stopping=False. Each size runs in a fresh "
            f"subprocess (`run.py --w4-worker N`) that first does a warm-up fit on "
            f"{W4_WARMUP_ROWS} rows (excluded; 16 batches, so it loads TensorFlow and starts "
            "XLA as the measured fits will), then fits on all N rows, at least 2 and up to 5 "
            f"while they take under {W4_REPEAT_S:.0f} s together; each fit builds a new "
            "estimator. s/epoch (1st fit) includes whatever the first fit at this size "
            "compiles; s/epoch, µs/row·epoch and the flatness target use the best of the fits "
            "(how many in parentheses).",
            "",
            md_table(
                [
                    "contender",
                    "rows",
                    "s/epoch (1st fit)",
                    "s/epoch (best of n)",
                    "µs/row·epoch (best)",
                    "input MiB (X+y)",
                    "peak RSS beyond baseline, 1st fit (MiB)",
                    "÷ input",
                    "2nd fit ÷ input",
                    "notes",
                ],
                rows,
            ),
            "",
            f"Peak RSS method: {method}. The baseline is taken after the data exist and after "
            "the warm-up fit, so it includes TensorFlow's runtime and the input arrays; the peak "
            "counts everything the measured fit allocates on top (copies, scaled data, tensors; "
            "for the 1st fit also any compilation for this size). Measured on the 1st and, "
            "reset again, on the 2nd fit. The target is judged on the 1st fit at the largest "
            "size: at small sizes a fixed few MiB dominate the ratio. "
            "MLPRegressor is shown for reference only.",
        ]
    )


def report_predict(cfg, results):
    base1 = results.get("kerasreg predict", {}).get("one_ms")
    baseb = results.get("kerasreg predict", {}).get("big_s")
    rows = []
    for name, r in results.items():
        if "error" in r:
            rows.append([name, "error: " + r["error"][:200], "–", "–", "–", "–"])
            continue
        rows.append(
            [
                name,
                fmt(r["one_ms"], ".3f"),
                r["calls"],
                fmt(r["one_ms"] / base1, ".1f") + "×" if base1 else "–",
                fmt(r["big_s"], ".3f"),
                fmt(r["big_s"] / baseb, ".1f") + "×" if baseb else "–",
            ]
        )
    return "\n".join(
        [
            "### Predict latency (W1's 3×512 network)",
            "",
            md_table(
                [
                    "call",
                    "1 row (ms, median)",
                    "calls",
                    "vs kerasreg",
                    f"{cfg['predict_big']:,} rows (s, best of 3)",
                    "vs kerasreg",
                ],
                rows,
            ),
            "",
            f"1 row: median of {cfg['predict_calls']} calls after one warm-up call (a call other "
            f"than kerasreg's stops after {cfg['predict_budget_s']:.0f} s once it has 20 calls; "
            "'calls' says how many were timed). kerasreg gets raw features (it scales them "
            "itself); the others get pre-scaled float32 arrays. `model(x)` is the Keras model "
            "called eagerly on a NumPy array.",
        ]
    )


def report_import(r):
    if r is None:
        return ""
    if r["error"]:
        return f"### Import\n\n`import kerasreg` failed: {r['error']}"

    def loaded(flags):
        return ", ".join(m for m, on in flags.items() if on) or "none of them"

    top = ", ".join(f"{name} {t:.3f} s" for t, name in r["top"])
    rows = [
        [
            "`import kerasreg; kerasreg.DenseRegressor()` (s)",
            f"{r['import_s']:.3f}",
            loaded(r["flags"]),
        ],
        ["`import kerasreg` alone (s)", f"{r['bare_import_s']:.3f}", loaded(r["bare_flags"])],
        [
            "whole `python -c 'import kerasreg; ...'` process wall time (s)",
            f"{r['process_wall_s']:.3f}",
            "",
        ],
    ]
    rows += [[f"reference: `import {m}` (s)", f"{t:.3f}", ""] for m, t in r["reference"].items()]
    rows += [
        [
            "largest top-level imports of the first line (`-X importtime`, cumulative, one run)",
            top or "–",
            "",
        ]
    ]
    return "\n".join(
        [
            "### Import",
            "",
            md_table(["measure", "value", "of tensorflow, keras, sklearn, pandas: loaded"], rows),
            "",
            "Each time is measured inside a fresh `python -c` process around the statement, best "
            f"of 3 processes (the references: best of {r['ref_repeats']}). Python's own start-up "
            "is excluded except in the process wall time row.",
        ]
    )


def targets_table(res):
    rows = []

    def add(name, value, threshold, ok, unit=""):
        if value is None:
            rows.append([name, "–", threshold, "n/a"])
        else:
            rows.append([name, value, threshold, "PASS" if ok else "FAIL"])

    def ms(w, name):
        r = (res.get(w) or {}).get(name) or {}
        return r.get("ms_per_epoch")

    kr1 = ms("w1", "kerasreg DenseRegressor")
    for key, other, label in [
        ("w1_vs_keras", "Keras model.fit (seed code)", "Keras model.fit"),
        ("w1_vs_mlp", "sklearn MLPRegressor", "MLPRegressor"),
    ]:
        o = ms("w1", other)
        ratio = kr1 / o if kr1 and o else None
        add(
            f"W1 kerasreg ms/epoch ÷ {label}",
            fmt(ratio, ".3f", None),
            f"≤ {TARGETS[key]}",
            ratio is not None and ratio <= TARGETS[key],
        )
    peak = res.get("peak")
    kr = (res.get("w1") or {}).get("kerasreg DenseRegressor") or {}
    frac = kr.get("gflops") / max(peak.values()) if peak and kr.get("gflops") else None
    add(
        "W1 kerasreg GFLOP/s ÷ matmul peak",
        fmt(frac, ".1%", None),
        f"≥ {TARGETS['w1_peak_fraction']:.0%}",
        frac is not None and frac >= TARGETS["w1_peak_fraction"],
    )
    kr2, mlp2 = ms("w2", "kerasreg DenseRegressor"), ms("w2", "sklearn MLPRegressor")
    ratio = kr2 / mlp2 if kr2 and mlp2 else None
    add(
        "W2 kerasreg ms/epoch ÷ MLPRegressor",
        fmt(ratio, ".3f", None),
        f"≤ {TARGETS['w2_vs_mlp']}",
        ratio is not None and ratio <= TARGETS["w2_vs_mlp"],
    )
    w3 = res.get("w3") or {}
    k3 = w3.get("kerasreg DenseRegressor") or {}
    for key, other, label in [
        ("w3_vs_scikeras", "scikeras KerasRegressor", "scikeras"),
        ("w3_vs_mlp", "sklearn MLPRegressor", "MLPRegressor"),
    ]:
        o = (w3.get(other) or {}).get("wall_s")
        ratio = k3["wall_s"] / o if k3.get("wall_s") and o else None
        add(
            f"W3 kerasreg wall ÷ {label}",
            fmt(ratio, ".3f", None),
            f"≤ {TARGETS[key]}",
            ratio is not None and ratio <= TARGETS[key],
        )
    m3 = (w3.get("sklearn MLPRegressor") or {}).get("best_mae")
    ok = k3.get("best_mae") is not None and m3 is not None
    add(
        "W3 kerasreg best CV MAE vs MLPRegressor's",
        f"{k3['best_mae']:.4f} vs {m3:.4f}" if ok else None,
        "≤ MLPRegressor's",
        ok and k3["best_mae"] <= m3,
    )
    w4 = {
        n: r for (c, n), r in (res.get("w4") or {}).items() if c == "kerasreg" and "us_per_row" in r
    }
    if len(w4) >= 2:
        per_row = [r["us_per_row"] for r in w4.values()]
        spread = max(per_row) / min(per_row)
        sizes = f"{min(w4):,}–{max(w4):,} rows"
        add(
            f"W4 time per row, max ÷ min over {sizes}",
            f"{spread:.2f}",
            f"≤ {TARGETS['w4_row_time_spread']}",
            spread <= TARGETS["w4_row_time_spread"],
        )
    else:
        add("W4 time per row flat", None, f"≤ {TARGETS['w4_row_time_spread']}", False)
    if w4:
        largest = w4[max(w4)]["rss_ratio"]
        others = ", ".join(f"{w4[n]['rss_ratio']:.2f} at {n:,}" for n in sorted(w4)[:-1])
        add(
            f"W4 peak RSS beyond baseline ÷ input bytes, 1st fit at {max(w4):,} rows",
            f"{largest:.2f}" + (f" ({others})" if others else ""),
            f"≤ {TARGETS['w4_rss_ratio']}",
            largest <= TARGETS["w4_rss_ratio"],
        )
    else:
        add("W4 peak RSS ÷ input bytes", None, f"≤ {TARGETS['w4_rss_ratio']}", False)
    w5 = res.get("w5") or {}
    t1, t2 = ((w5.get(n) or {}).get("wall_s") for n in (1, 2))
    ratio = t2 / t1 if t1 and t2 else None
    add(
        "W5 GridSearchCV wall, n_jobs=2 ÷ n_jobs=1",
        fmt(ratio, ".3f", None),
        f"< {TARGETS['w5_parallel']}",
        ratio is not None and ratio < TARGETS["w5_parallel"],
    )
    imp = res.get("import") or {}
    ref_skl = (imp.get("reference") or {}).get("sklearn.base")
    add(
        "`import kerasreg; kerasreg.DenseRegressor()` time (s)",
        None
        if imp.get("import_s") is None
        else f"{imp['import_s']:.3f}"
        + (f" (`import sklearn.base` alone: {ref_skl:.3f})" if ref_skl else ""),
        f"≤ {TARGETS['import_s']}",
        imp.get("import_s") is not None and imp["import_s"] <= TARGETS["import_s"],
    )
    bare = imp.get("bare_import_s")
    add(
        "`import kerasreg` alone (s); scikit-learn loads with the first estimator",
        fmt(bare, ".3f", None),
        f"≤ {TARGETS['import_s']}",
        bare is not None and bare <= TARGETS["import_s"],
    )
    add(
        "`import kerasreg` does not import tensorflow",
        None if imp.get("tf_loaded") is None else ("imports it" if imp["tf_loaded"] else "no TF"),
        "no TF",
        imp.get("tf_loaded") is False,
    )
    one = ((res.get("predict") or {}).get("kerasreg predict") or {}).get("one_ms")
    add(
        "one-row predict (ms, median)",
        fmt(one, ".3f", None),
        f"≤ {TARGETS['predict_1row_ms']}",
        one is not None and one <= TARGETS["predict_1row_ms"],
    )
    return "\n".join(
        [
            "### Targets",
            "",
            md_table(["target", "measured", "threshold", "result"], rows),
            "",
            "All ratios come from this run. n/a: a contender or workload did not run.",
        ]
    )


def build_report(args, cfg, machine, res, elapsed):
    mode = "quick (`--quick`)" if args.quick else "full"
    parts = [
        "# kerasreg benchmark results",
        "",
        f"Generated by `python benchmarks/run.py{' --quick' if args.quick else ''}` "
        f"({mode} run, {elapsed / 60:.1f} min).",
        "",
        md_table(["machine", ""], [[k, v] for k, v in machine.items()]),
    ]
    if res.get("data_note"):
        parts += ["", f"Data: {res['data_note']}"]
    parts += ["", targets_table(res)]
    if "w1" in res:
        parts += [
            "",
            report_dense(
                "W1: the seed's network",
                res["d"],
                W1_NET,
                cfg["w1_epochs"],
                res["w1"],
                res.get("peak"),
            ),
        ]
    if "w2" in res:
        parts += [
            "",
            report_dense("W2: a small network", res["d"], W2_NET, cfg["w2_epochs"], res["w2"]),
        ]
    if "w1" in res or "w2" in res:
        parts += [
            "",
            "[a] MLPRegressor has no validation loss (none is computed during "
            "its fit) and minimises squared error, not MAE; its ms/epoch therefore "
            "covers training only.",
        ]
    if "w3" in res:
        parts += ["", report_w3(res["d"], cfg, res["w3"])]
    if "w4" in res:
        parts += ["", report_w4(cfg, res["w4"], res["w4_contenders"])]
    if "w5" in res:
        parts += ["", report_w5(res["d"], cfg, res["w5"])]
    if "predict" in res:
        parts += ["", report_predict(cfg, res["predict"])]
    if "import" in res:
        parts += ["", report_import(res["import"])]
    if res.get("sections"):
        parts += [
            "",
            "Wall time by section: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in res["sections"].items())
            + ".",
        ]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #

WORKLOADS = ["w1", "w2", "w3", "w4", "w5", "predict", "import"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI-sized run (fewer epochs, small grid, W4 up to 100k rows)",
    )
    p.add_argument(
        "--output",
        help="write the markdown report here (default: "
        "benchmarks/RESULTS.md for a full run, nowhere for --quick)",
    )
    p.add_argument("--only", help="comma-separated subset of " + ",".join(WORKLOADS))
    p.add_argument(
        "--w4-mlp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run MLPRegressor in W4 for reference "
        "(default: yes for a full run, no with --quick)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed fits per contender in W1/W2, best one reported (default: 1)",
    )
    p.add_argument("--json", help="also dump the raw numbers as JSON here")
    p.add_argument("--w4-worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--w4-epochs", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--w4-contender", default="kerasreg", help=argparse.SUPPRESS)
    p.add_argument("--w5-worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.w4_worker:
        w4_worker(args.w4_worker, args.w4_epochs, args.w4_contender)
        return 0
    if args.w5_worker:
        w5_worker(args.w5_worker, args.quick)
        return 0

    cfg = QUICK if args.quick else FULL
    only = set(WORKLOADS if not args.only else args.only.lower().split(","))
    unknown = only - set(WORKLOADS)
    if unknown:
        p.error(f"unknown workloads: {sorted(unknown)}")
    output = args.output or (None if args.quick else str(HERE / "RESULTS.md"))

    t_start = perf()
    machine = machine_description()
    res = {}
    sections = res["sections"] = {}
    mark = [perf()]

    def done(name):
        sections[name] = perf() - mark[0]
        mark[0] = perf()

    # Import time first, in fresh subprocesses, before this process loads TensorFlow.
    if "import" in only:
        log("import time ...")
        try:
            res["import"] = run_import(ref_repeats=1 if args.quick else 3)
        except Exception as exc:  # noqa: BLE001
            res["import"] = dict(
                error=f"{type(exc).__name__}: {exc}", import_s=None, tf_loaded=None
            )
        done("import")
    d = res["d"] = WineData()
    res["data_note"] = d.note
    models = {}
    if "w1" in only:
        log("matmul peak ...")
        before = matmul_peak()
        log(f"W1 ({cfg['w1_epochs']} epochs) ...")
        res["w1"], models = run_dense_workload(d, W1_NET, cfg["w1_epochs"], args.repeat)
        after = matmul_peak()
        # Measured on both sides of W1, the better kept: a busy machine lowers it.
        res["peak"] = {k: max(before[k], after[k]) for k in before}
        done("matmul peak + W1")
    if "w2" in only:
        log(f"W2 ({cfg['w2_epochs']} epochs) ...")
        res["w2"], _ = run_dense_workload(d, W2_NET, cfg["w2_epochs"], args.repeat)
        done("W2")
    if "predict" in only:
        log("predict latency ...")
        if not models:
            _, models = run_dense_workload(d, W1_NET, 2, timed_rounds=0)
        res["predict"] = run_predict(d, models, cfg)
        done("predict")
    del models
    gc.collect()
    if "w3" in only:
        log("W3 ...")
        res["w3"] = run_w3(d, cfg)
        done("W3")
    if "w4" in only:
        log("W4 ...")
        w4_mlp = (not args.quick) if args.w4_mlp is None else args.w4_mlp
        res["w4_contenders"] = ["kerasreg"] + (["MLPRegressor"] if w4_mlp else [])
        res["w4"] = run_w4(cfg, res["w4_contenders"])
        done("W4")
    if "w5" in only:
        log("W5 ...")
        res["w5"] = run_w5(cfg, args.quick)
        done("W5")

    with contextlib.suppress(OSError):
        machine["Load average (1, 5, 15 min) at end"] = " ".join(
            f"{x:.2f}" for x in os.getloadavg()
        )
    report = build_report(args, cfg, machine, res, perf() - t_start)
    print(report)
    if output:
        Path(output).write_text(report, encoding="utf-8")
        log(f"wrote {output}")
    if args.json:
        raw = {k: v for k, v in res.items() if k != "d"}
        if "w4" in raw:
            raw["w4"] = {f"{c}:{n}": r for (c, n), r in raw["w4"].items()}
        with contextlib.suppress(TypeError):
            Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
