"""Predict latency with W1's fitted models: 1 row (median of many calls) and a large batch."""

import statistics
import traceback

import numpy as np

from .. import contenders
from ..harness import log, perf, timeit
from ..markdown import fmt, md_table

BASELINE_CALL = "kerasreg predict"  # the ratios' denominator and the one-row target


def run(d, models, cfg):
    """models: W1's fitted models by contender name (a quick 2-epoch fit if W1 did not run)."""
    rng = np.random.default_rng(0)
    X_big = rng.uniform(d.x_min, d.x_max, size=(cfg["predict_big"], d.n_features)).astype(
        np.float32
    )
    Xs_big = d.scale_x(X_big)
    x1, xs1 = d.X_va[:1], d.Xs_va[:1]
    calls = []
    for c in contenders.all_contenders():
        model = models.get(c.name)
        if model is not None:
            for label, fn, raw in c.predict_calls(model):
                calls.append((label, fn, x1 if raw else xs1, X_big if raw else Xs_big))
    baseline = contenders.load(contenders.BASELINE)
    results = {}
    for name, fn, one, big in calls:
        try:
            fn(one)
            times, t_end = [], perf() + cfg["predict_budget_s"]
            while len(times) < cfg["predict_calls"]:
                times.append(timeit(lambda fn=fn, one=one: fn(one)))
                # Only slow calls stop early, and never kerasreg's: it is the target.
                if len(times) >= 20 and perf() > t_end and not name.startswith(baseline.key):
                    break
            fn(big)
            big_best = min(timeit(lambda fn=fn, big=big: fn(big)) for _ in range(3))
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


def report(cfg, results):
    base = results.get(BASELINE_CALL, {})
    base1, baseb = base.get("one_ms"), base.get("big_s")
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
    headers = [
        "call",
        "1 row (ms, median)",
        "calls",
        "vs kerasreg",
        f"{cfg['predict_big']:,} rows (s, best of 3)",
        "vs kerasreg",
    ]
    return "\n".join(
        [
            "### Predict latency (W1's 3×512 network)",
            "",
            md_table(headers, rows),
            "",
            f"1 row: median of {cfg['predict_calls']} calls after one warm-up call (a call other "
            f"than kerasreg's stops after {cfg['predict_budget_s']:.0f} s once it has 20 calls; "
            "'calls' says how many were timed). kerasreg gets raw features (it scales them "
            "itself); the others get pre-scaled float32 arrays. `model(x)` is the Keras model "
            "called eagerly on a NumPy array.",
        ]
    )
