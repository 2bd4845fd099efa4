"""W5: kerasreg's GridSearchCV with n_jobs=1 and n_jobs=2, each in a fresh process.

The parent (``run``) starts ``python -m benchmarks.bench.workloads.w5 N_JOBS
[--quick]`` twice; that process (``worker``) prints one JSON line.
"""

import argparse
import warnings

from ..harness import WineData, log, perf, print_json_line, run_worker, settings
from ..markdown import fmt, md_table, status_cell

MODULE = "benchmarks.bench.workloads.w5"


def worker(n_jobs, quick):
    """Runs in a fresh process (TensorFlow not loaded yet); prints one JSON line."""
    t_process = perf()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from kerasreg import DenseRegressor

    cfg = settings(quick)
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
    print_json_line(
        dict(
            n_jobs=n_jobs,
            wall_s=wall,
            process_s=perf() - t_process,
            best_params=search.best_params_,
            best_mae=-float(search.best_score_),
            mean_test_score=[float(v) for v in search.cv_results_["mean_test_score"]],
        )
    )


def run(cfg, quick):
    """Results by n_jobs."""
    results = {}
    for n_jobs in (1, 2):
        r = results[n_jobs] = run_worker(MODULE, n_jobs, *(["--quick"] if quick else []))
        if "error" in r:
            log(f"  n_jobs={n_jobs}: ERROR {r['error']}")
            continue
        log(f"  n_jobs={n_jobs}: {r['wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}")
    return results


def report(d, cfg, results):
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
    headers = [
        "n_jobs",
        "search wall (s)",
        "process wall (s)",
        "speed-up vs n_jobs=1",
        "best CV MAE",
        "best params",
        "same scores as n_jobs=1",
    ]
    return "\n".join(
        [
            "### W5: parallel search (n_jobs=1 vs n_jobs=2)",
            "",
            f"`GridSearchCV(DenseRegressor(epochs={cfg['w5_epochs']}, random_state=0), "
            f"cv={cv}, scoring='neg_mean_absolute_error', n_jobs=N)` over width "
            f"{grid['width']} × depth {grid['depth']} ({n_cand} candidates, {n_cand * cv} CV "
            "fits + 1 refit; early stopping with the defaults: patience 20, min_delta 0.001, "
            f"validation_fraction 0.1) on the red wine 70% training part ({len(d.y_tr)} rows). "
            f"Each n_jobs runs in a fresh process (`python -m {MODULE} N`), so both pay for "
            "loading TensorFlow: n_jobs=2 in each of its two loky workers, where each worker "
            "also builds every architecture it meets.",
            "",
            md_table(headers, rows),
        ]
    )


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=f"python -m {MODULE}", description="W5's search with one n_jobs, in this process."
    )
    p.add_argument("n_jobs", type=int)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    worker(args.n_jobs, args.quick)


if __name__ == "__main__":
    main()
