"""kerasreg against the references it claims, on the bundled red wine data.

Prints, for the checkout on ``sys.path`` (run with ``PYTHONPATH=<checkout>`` to
measure another version, e.g. a ``git worktree`` of an older commit):

1. early stopping: ``n_iter_`` and ``best_epoch_`` of real fits, and where
   ``keras.callbacks.EarlyStopping`` stops and which epoch it calls best on
   the same ``val_loss`` sequence;
2. units: R² of fits on ``X * c`` and ``y * d``, and how far their
   predictions are from ``d`` times the fit on X and y;
3. validation rows in a Pipeline: passed as a step's fit parameter (they skip
   the StandardScaler) and with ``transform_input=["X_val"]``;
4. bool parameters and datetime64 data;
5. model files: what loading each file that ``tests/test_hostile_files.py``
   crafts does, and its peak RSS, in a forked child under an address-space
   limit (``--limit``, default 8e9, so that an unbounded reader shows its
   peak rather than dying); ``kerasreg predict`` of a 3 -> 100,000 -> 1
   network on 2,000 rows; and 4,000 random damages of a real file.

Run: ``python benchmarks/references.py`` (about two minutes on 2 cores).
"""

import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import mean_absolute_error, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import kerasreg  # noqa: E402
from kerasreg import DenseRegressor  # noqa: E402
from kerasreg.datasets import load_red_wine  # noqa: E402

# Keras's own EarlyStopping on a sequence of losses (imports nothing from kerasreg).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from keras_reference import keras_stop  # noqa: E402


def early_stopping():
    print("1. early stopping (df.sample(frac=0.7, random_state=0); width 32, depth 2, 300 epochs)")
    frame = load_red_wine(as_frame=True).frame
    train = frame.sample(frac=0.7, random_state=0)
    valid = frame.drop(train.index)
    X, y = train.drop(columns="quality"), train["quality"]
    val = (valid.drop(columns="quality"), valid["quality"])
    for min_delta, patience in [(0.001, 20), (0.02, 5)]:
        reg = DenseRegressor(
            width=32, depth=2, epochs=300, min_delta=min_delta, patience=patience, random_state=0
        ).fit(X, y, validation_data=val)
        keras_says = keras_stop(reg.history_["val_loss"], min_delta, patience)
        print(
            f"   min_delta={min_delta}, patience={patience}: n_iter_ {reg.n_iter_}, "
            f"best_epoch_ {reg.best_epoch_}; Keras on the same losses: stops at "
            f"{keras_says[0]}, best {keras_says[1]}"
        )
    X, y = load_red_wine(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, random_state=0)
    reg = DenseRegressor(random_state=0).fit(X_tr, y_tr, validation_data=(X_va, y_va))
    keras_says = keras_stop(reg.history_["val_loss"], 0.001, 20)
    mae = mean_absolute_error(y_va, reg.predict(X_va))
    print(
        f"   seed recipe (defaults, train_test_split 70/30, random_state=0): validation MAE "
        f"{mae:.4f}, n_iter_ {reg.n_iter_}, best_epoch_ {reg.best_epoch_}; Keras: stops at "
        f"{keras_says[0]}, best {keras_says[1]}"
    )
    return X_tr, X_va, y_tr, y_va


def units(X_tr, X_va, y_tr, y_va):
    print("2. units (width 32, depth 2, random_state=0, internal split; R² on the 30%)")
    params = dict(width=32, depth=2, random_state=0)
    base = DenseRegressor(**params).fit(X_tr, y_tr).predict(X_va)
    print(f"   fit(X, y): R² {r2_score(y_va, base):.3f}")
    for c, d in [(1e-15, 1.0), (1.0, 1e-16), (1e-30, 1e30)]:
        try:
            pred = DenseRegressor(**params).fit(X_tr * c, y_tr * d).predict(X_va * c)
        except ValueError as e:
            print(f"   fit(X * {c:g}, y * {d:g}): ValueError: {e}")
            continue
        off = np.max(np.abs(pred / d / base - 1))
        print(
            f"   fit(X * {c:g}, y * {d:g}): R² {r2_score(y_va * d, pred):.3f}, "
            f"max |prediction / (d * fit on X, y) - 1| {off:.2g}"
        )


def pipelines(X_tr, X_va, y_tr, y_va):
    print("3. validation rows in a Pipeline (defaults, random_state=0; 20% of the 70% validate)")
    X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.2, random_state=0)
    pipe = make_pipeline(StandardScaler(), DenseRegressor(random_state=0))
    pipe.fit(X_fit, y_fit, denseregressor__validation_data=(X_val, y_val))
    _report("step parameter (raw X_val)", pipe, X_va, y_va)
    try:
        with sklearn.config_context(enable_metadata_routing=True):
            reg = DenseRegressor(random_state=0).set_fit_request(X_val=True, y_val=True)
            pipe = Pipeline([("scale", StandardScaler()), ("reg", reg)], transform_input=["X_val"])
            pipe.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
        _report('X_val, transform_input=["X_val"]', pipe, X_va, y_va)
    except (TypeError, ValueError) as e:
        print(f'   X_val, transform_input=["X_val"]: {type(e).__name__}: {str(e)[:120]}')


def _report(name, pipe, X_test, y_test):
    reg = pipe[-1]
    print(
        f"   {name}: lowest val_loss {reg.history_['val_loss'].min():.3f}, n_iter_ "
        f"{reg.n_iter_}, test MAE {mean_absolute_error(y_test, pipe.predict(X_test)):.3f}"
    )


def bad_input(X, y):
    print("4. bools and dates")
    dates = np.datetime64("2024-01-01") + np.arange(100).reshape(50, 2)
    cases = [
        (dict(width=True), X),
        (dict(batch_size=True), X),
        (dict(hidden_layer_sizes=(True,)), X),
    ]
    for params, data in [*cases, (dict(), dates)]:
        name = params or {"X": "datetime64"}
        try:
            params = {"width": 4, "depth": 1, "epochs": 1, **params}
            DenseRegressor(**params).fit(data[:50], y[:50])
            print(f"   {name}: fitted")
        except Exception as e:  # noqa: BLE001 - what the user sees, whatever it is
            print(f"   {name}: {type(e).__name__}: {str(e)[:110]}")


def model_files(limit):
    import json
    import random
    import subprocess
    import tempfile
    from collections import Counter

    import pandas as pd
    import test_hostile_files as crafted
    from sklearn.datasets import make_regression

    from kerasreg import load

    print(f"5. model files (peak RSS of a forked child, RLIMIT_AS={limit:.0e})")
    X, y = make_regression(n_samples=80, n_features=3, noise=0.5, random_state=0)
    X = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = DenseRegressor(width=8, depth=1, epochs=3, random_state=0).fit(X, y)
    folder = Path(tempfile.mkdtemp())
    original = folder / "model.kr"
    reg.save(original)
    cases = []
    for name, entries, _ in crafted._crafted(crafted.members(original)):
        if isinstance(entries, str):
            path = entries
        elif isinstance(entries[0], str):
            path = str(crafted._damaged(folder / f"{name}.kr", *entries))
        else:
            path = str(crafted.write(folder / f"{name}.kr", entries))
        cases.append((name, path))
    script = crafted._CHILDREN.format(limit=int(limit))
    run = subprocess.run([sys.executable, "-c", script, *(p for _, p in cases)],
                         capture_output=True, text=True, timeout=900)  # fmt: skip
    outcomes = {p: (o, rss) for p, o, rss in map(json.loads, run.stdout.split("\n")[:-1])}
    for name, path in cases:
        outcome, rss = outcomes.get(path, (f"no report ({run.stderr[-100:]})", 0))
        print(f"   {name:24s} {rss:6.0f} MiB  {outcome.replace(path, '<file>')[:110]}")
    entries = crafted.edited(
        crafted.members(original), crafted._set(["params", "hidden_layer_sizes"], [100_000])
    )
    shapes = [(3, 100_000), (100_000,), (100_000, 1), (1,)]
    weights = [(f"weights/{i}.npy", crafted.npy(np.zeros(s, "f4"))) for i, s in enumerate(shapes)]
    wide = crafted.write(folder / "wide.kr", [e for e in entries if e[0] == "model.json"] + weights)
    pd.DataFrame(np.ones((2000, 3)), columns=["a", "b", "c"]).to_csv(
        folder / "rows.csv", index=False
    )
    script = crafted._WIDE_PREDICT.format(limit=int(limit))
    run = subprocess.run([sys.executable, "-c", script, str(wide), str(folder / "rows.csv"),
                          str(folder / "out.csv")], capture_output=True, text=True)  # fmt: skip
    print(f"   3 -> 100,000 -> 1 network, kerasreg predict of 2,000 rows: status and peak MiB "
          f"{run.stdout.split()}")  # fmt: skip
    data, rng, seen = original.read_bytes(), random.Random(0), Counter()
    for _ in range(4000):
        damaged = bytearray(data)
        if rng.random() < 0.8:
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] ^= rng.randint(1, 255)
        else:
            damaged = damaged[: rng.randrange(len(damaged))]
        (folder / "damaged.kr").write_bytes(bytes(damaged))
        try:
            same = np.array_equal(load(folder / "damaged.kr").predict(X), reg.predict(X))
            seen["loaded, same model" if same else "LOADED A DIFFERENT MODEL"] += 1
        except ValueError:
            seen["ValueError"] += 1
        except Exception as e:  # noqa: BLE001 - what escapes is the finding
            seen[type(e).__name__] += 1
    print(f"   4,000 random damages (1-4 byte XORs, truncations): {dict(seen)}")


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=float, default=8e9, help="RLIMIT_AS for section 5")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"kerasreg from {os.path.dirname(kerasreg.__file__)}")
    X_tr, X_va, y_tr, y_va = early_stopping()
    units(X_tr, X_va, y_tr, y_va)
    pipelines(X_tr, X_va, y_tr, y_va)
    bad_input(X_tr, y_tr)
    model_files(args.limit)


if __name__ == "__main__":
    main()
