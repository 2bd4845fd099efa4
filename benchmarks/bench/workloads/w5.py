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

    def search():
        return GridSearchCV(
            DenseRegressor(epochs=cfg["w5_epochs"], random_state=0),
            cfg["w5_grid"],
            cv=cfg["w5_cv"],
            scoring="neg_mean_absolute_error",
            n_jobs=n_jobs,
        )

    walls, searches = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The second search finds TensorFlow loaded in this process and, with
        # n_jobs=2, loky's workers still alive (joblib reuses them).
        for _ in range(2):
            t0 = perf()
            searches.append(search().fit(d.X_tr, d.y_tr))
            walls.append(perf() - t0)
            if len(searches) == 1:
                process = perf() - t_process  # the fresh process, to the first search's end
    first, again = searches
    print_json_line(
        dict(
            n_jobs=n_jobs,
            wall_s=walls[0],
            refit_s=first.refit_time_,
            again_wall_s=walls[1],
            again_same_scores=_scores(again) == _scores(first),
            process_s=process,
            best_params=first.best_params_,
            best_mae=-float(first.best_score_),
            mean_test_score=_scores(first),
        )
    )


def _scores(search):
    return [float(v) for v in search.cv_results_["mean_test_score"]]


def run(cfg, quick):
    """Results by n_jobs."""
    results = {}
    for n_jobs in (1, 2):
        r = results[n_jobs] = run_worker(MODULE, n_jobs, *(["--quick"] if quick else []))
        if "error" in r:
            log(f"  n_jobs={n_jobs}: ERROR {r['error']}")
            continue
        log(
            f"  n_jobs={n_jobs}: {r['wall_s']:.1f} s (refit {r['refit_s']:.1f} s), again "
            f"{r['again_wall_s']:.1f} s, best CV MAE {r['best_mae']:.4f}"
        )
    return results


HEADERS = [
    "n_jobs",
    "search wall (s)",
    "of which refit (s)",
    "process wall to its end (s)",
    "speed-up vs n_jobs=1",
    "again (s)",
    "speed-up again",
    "best CV MAE",
    "best params",
    "same scores as n_jobs=1",
]


def _speed_up(one, r, key):
    return fmt(one[key] / r[key], ".2f") + "×" if one.get(key) and r.get(key) else "–"


def report(d, cfg, results):
    grid, cv = cfg["w5_grid"], cfg["w5_cv"]
    one = results.get(1) or {}
    rows = []
    for n_jobs in (1, 2):
        r = results.get(n_jobs)
        bad = status_cell(r)
        if bad:
            rows.append([n_jobs] + ["–"] * (len(HEADERS) - 2) + [bad])
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
                fmt(r["refit_s"], ".2f"),
                fmt(r["process_s"], ".1f"),
                _speed_up(one, r, "wall_s"),
                fmt(r["again_wall_s"], ".1f"),
                _speed_up(one, r, "again_wall_s"),
                fmt(r["best_mae"], ".4f"),
                f"width {bp['width']}, depth {bp['depth']}",
                same + ("" if r["again_same_scores"] else "; again: NOT the same"),
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
            f"Each n_jobs runs in a fresh process (`python -m {MODULE} N`), so both pay for "
            "loading TensorFlow: n_jobs=2 in each of its two loky workers, where each worker "
            "also builds every architecture it meets. Then the same search again in that "
            "process ('again'): TensorFlow is loaded and, for n_jobs=2, joblib reuses loky's "
            "workers, as in a notebook's second search. refit = GridSearchCV's `refit_time_`: "
            "the refit runs in the parent, which with n_jobs=2 loads TensorFlow for it.",
            "",
            md_table(HEADERS, rows),
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
