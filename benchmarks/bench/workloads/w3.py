"""W3: GridSearchCV with early stopping, one search per contender: wall time, best CV MAE."""

import gc
import traceback
import warnings

import numpy as np

from .. import contenders
from ..harness import Skipped, log, perf
from ..markdown import fmt, md_table, status_cell

# kerasreg and MLPRegressor (the ratio target) run first, back to back, so that a
# shared machine's drift over scikeras's minutes does not come between them.
FIRST = ["kerasreg", "mlp"]


def order():
    """FIRST, then every other contender that can search, in REGISTRY order."""
    rest = [c for c in contenders.all_contenders() if c.key not in FIRST]
    return [contenders.load(key) for key in FIRST] + [
        c for c in rest if contenders.offers(c, "search")
    ]


def run(d, cfg):
    from sklearn.exceptions import ConvergenceWarning

    grid, cv, epochs = cfg["w3_grid"], cfg["w3_cv"], cfg["w3_epochs"]
    results = {}
    for c in order():
        try:
            search, simplify = c.search(grid, cv, epochs)
        except Skipped as exc:
            results[c.name] = dict(skipped=str(exc))
            log(f"  {c.name}: {exc}")
            continue
        r = results[c.name] = dict(note=c.search_note)
        gc.collect()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = perf()
                search.fit(d.X_tr, d.y_tr)
                r["wall_s"] = perf() - t0
        except Exception as exc:  # noqa: BLE001
            r["error"] = f"{type(exc).__name__}: {exc}"
            log(f"  {c.name}: ERROR\n{traceback.format_exc()}")
            continue
        r["best_mae"] = -float(search.best_score_)
        r["best_params"] = simplify(search.best_params_)
        r["n_fits"] = len(search.cv_results_["params"]) * cv + 1
        pred = np.asarray(search.predict(d.X_va), dtype=np.float64).ravel()
        r["holdout_mae"] = float(np.mean(np.abs(pred - d.y_va)))
        log(f"  {c.name}: {r['wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}")
    return results


def report(d, cfg, results):
    grid = cfg["w3_grid"]
    base = results.get(contenders.name_of(contenders.BASELINE), {}).get("wall_s")
    rows = []
    for c in order():
        r = results.get(c.name)
        bad = status_cell(r)
        if bad:
            rows.append([c.name, "–", "–", "–", "–", "–", bad])
            continue
        bp = r["best_params"]
        rows.append(
            [
                c.name,
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
            "in the order of the table (kerasreg and MLPRegressor back to back); "
            "hold-out MAE = the refitted best model on the 30% part.",
        ]
    )
