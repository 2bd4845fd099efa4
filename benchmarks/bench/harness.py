"""What every workload shares: settings, timing, the machine, the data, subprocesses."""

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

# Read by TensorFlow when it loads, which no module here does at import time.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
REPO = HERE.parent
RESULTS_MD = HERE / "RESULTS.md"
README_MD = REPO / "README.md"

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
    first_fit_epochs=20,
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
    first_fit_epochs=5,
)

W1_NET = dict(width=512, depth=3, batch_size=256)
W2_NET = dict(width=16, depth=1, batch_size=32)


def settings(quick):
    return QUICK if quick else FULL


# --------------------------------------------------------------------------- #
# Logging, missing packages, versions, timing
# --------------------------------------------------------------------------- #


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


def timeit(fn):
    t0 = perf()
    fn()
    return perf() - t0


def error_text(exc):
    return f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- #
# Machine description
# --------------------------------------------------------------------------- #


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _first_line_value(path, prefix):
    for line in Path(path).read_text().splitlines():
        if line.startswith(prefix):
            return line.split(":", 1)[1].strip()
    return None


def machine_description():
    cpu = platform.processor() or "unknown"
    try:
        cpu = _first_line_value("/proc/cpuinfo", "model name") or cpu
    except OSError:
        pass
    mem = "unknown"
    try:
        total = _first_line_value("/proc/meminfo", "MemTotal")
        if total is not None:
            mem = f"{int(total.split()[0]) / 2**20:.1f} GiB"
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
        load = load_average()
    except OSError:
        load = "unknown"
    kerasreg_version = version("kerasreg")
    if kerasreg_version == "not installed":
        try:
            import kerasreg

            kerasreg_version = f"{getattr(kerasreg, '__version__', '?')} (from checkout)"
        except Exception:  # noqa: BLE001
            pass
    tf_version = version("tensorflow")
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
        "TensorFlow": tf_version if tf_version != "not installed" else version("tensorflow-cpu"),
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

    def val_mae(self, pred):
        """Mean absolute error on the validation part, in quality points."""
        return float(np.mean(np.abs(np.asarray(pred, dtype=np.float64).ravel() - self.y_va)))


# --------------------------------------------------------------------------- #
# Subprocesses
# --------------------------------------------------------------------------- #


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_worker(module, *args, env=None):
    """``python -m module args`` in a fresh process; its last stdout line, parsed as JSON.

    A failed worker gives ``{"error": <the last lines of its output>}``.
    """
    cmd = [sys.executable, "-m", module, *map(str, args)]
    env = child_env() if env is None else env
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return dict(error=" / ".join(tail) or f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_json_line(record):
    """A worker's answer: one JSON line on stdout (the last line is what counts)."""
    print(json.dumps(record))
