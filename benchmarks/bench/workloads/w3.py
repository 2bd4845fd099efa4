"""W3: GridSearchCV with early stopping, one search per contender: wall time, best CV MAE.

kerasreg's search runs again in fresh processes: with one TensorFlow thread
(``KERASREG_NUM_THREADS=1``), and with a ``KERASREG_XLA_CACHE`` that an
earlier process's same search filled: ``python -m benchmarks.bench.workloads.w3
[--quick]`` (``worker``) prints one JSON line.
"""

import argparse
import gc
import tempfile
import traceback
import warnings

import numpy as np

from .. import contenders
from ..harness import Skipped, WineData, child_env, log, perf, print_json_line, run_worker, settings
from ..markdown import fmt, md_table, status_cell

MODULE = "benchmarks.bench.workloads.w3"
ONE_THREAD = "kerasreg, KERASREG_NUM_THREADS=1"
CACHED = "kerasreg, KERASREG_XLA_CACHE filled"

# kerasreg and MLPRegressor (the ratio target) run first, back to back, so that a
# shared machine's drift over scikeras's minutes does not come between them.
FIRST = ["kerasreg", "mlp"]


def order():
    """FIRST, then every other contender that can search, in REGISTRY order."""
    rest = [c for c in contenders.all_contenders() if c.key not in FIRST]
    return [contenders.load(key) for key in FIRST] + [
        c for c in rest if contenders.offers(c, "search")
    ]


def _search(c, d, cfg):
    """One contender's search: its record (wall time, best CV MAE and parameters, hold-out MAE)."""
    from sklearn.exceptions import ConvergenceWarning

    try:
        search, simplify = c.search(cfg["w3_grid"], cfg["w3_cv"], cfg["w3_epochs"])
    except Skipped as exc:
        return dict(skipped=str(exc))
    r = dict(note=c.search_note)
    gc.collect()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = perf()
            search.fit(d.X_tr, d.y_tr)
            r["wall_s"] = perf() - t0
    except Exception as exc:  # noqa: BLE001
        r["error"] = f"{type(exc).__name__}: {exc}"
        log(traceback.format_exc())
        return r
    r["best_mae"] = -float(search.best_score_)
    r["best_params"] = simplify(search.best_params_)
    r["n_fits"] = len(search.cv_results_["params"]) * cfg["w3_cv"] + 1
    pred = np.asarray(search.predict(d.X_va), dtype=np.float64).ravel()
    r["holdout_mae"] = float(np.mean(np.abs(pred - d.y_va)))
    return r


def worker(quick):
    """kerasreg's search in a fresh process; prints one JSON line.

    TensorFlow is imported before the search, as the in-process row finds it
    loaded; its thread pools are sized on the first fit, from the environment.
    """
    from kerasreg._compat.startup import import_quietly

    import_quietly("tensorflow")
    r = _search(contenders.load(contenders.BASELINE), WineData(), settings(quick))
    r["note"] = "in a fresh process (TensorFlow imported before the search), otherwise as above"
    print_json_line(r)


def run(d, cfg, quick=False):
    results = {}
    for c in order():
        r = results[c.name] = _search(c, d, cfg)
        _log(c.name, r)
        if c.key == FIRST[-1]:  # after kerasreg and MLPRegressor's back-to-back pair
            args = ["--quick"] if quick else []
            env = {**child_env(), "KERASREG_NUM_THREADS": "1"}
            r = results[ONE_THREAD] = run_worker(MODULE, *args, env=env)
            _log(ONE_THREAD, r)
            with tempfile.TemporaryDirectory() as folder:
                env = {**child_env(), "KERASREG_XLA_CACHE": folder}
                run_worker(MODULE, *args, env=env)  # fills the cache
                r = results[CACHED] = run_worker(MODULE, *args, env=env)
            r["note"] = (
                "in a fresh process with `KERASREG_XLA_CACHE` filled by an earlier process's "
                "same search (traced and compiled programs), otherwise as kerasreg's first row"
            )
            _log(CACHED, r)
    return results


def _log(name, r):
    if "wall_s" in r:
        log(f"  {name}: {r['wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}")
    else:
        log(f"  {name}: {r.get('skipped') or 'ERROR ' + r.get('error', '')}")


def report(d, cfg, results):
    grid = cfg["w3_grid"]
    base = results.get(contenders.name_of(contenders.BASELINE), {}).get("wall_s")
    rows = []
    names = [c.name for c in order()]
    for extra in (CACHED, ONE_THREAD):
        if extra in results:
            names.insert(1, extra)
    for name in names:
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
    headers = [
        "contender",
        "wall (s)",
        "time vs kerasreg",
        "best CV MAE",
        "best params",
        "hold-out MAE",
        "settings",
    ]
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
            md_table(headers, rows),
            "",
            "wall = one `GridSearchCV.fit` including the refit on the whole training part, "
            "kerasreg and MLPRegressor back to back, then kerasreg in fresh processes, then "
            "the rest; hold-out MAE = the refitted best model on the 30% part. "
            f"'{ONE_THREAD}': TensorFlow's two thread pools sized to one thread (an "
            "environment variable, read on the first fit); the other rows keep each library's "
            "default threads (TensorFlow's and OpenBLAS's: every core). "
            f"'{CACHED}': a new cache directory, filled by one search in another fresh "
            "process first (not timed).",
        ]
    )


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=f"python -m {MODULE}", description="kerasreg's W3 search, in this process."
    )
    p.add_argument("--quick", action="store_true")
    worker(p.parse_args(argv).quick)


if __name__ == "__main__":
    main()
