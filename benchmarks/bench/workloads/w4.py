"""W4: scale on synthetic data, one fresh process per size: s/epoch, µs per row, peak RSS.

The parent (``run``) starts ``python -m benchmarks.bench.workloads.w4 ROWS EPOCHS
CONTENDER`` per contender and size; that process (``worker``) prints one JSON line.
"""

import argparse
import gc
from pathlib import Path

import numpy as np

from .. import contenders
from ..harness import log, perf, print_json_line, run_worker
from ..markdown import fmt, md_table

MODULE = "benchmarks.bench.workloads.w4"
W4_NET = dict(width=64, depth=2, batch_size=256)
W4_FEATURES = 20
# 16 batches of 256, with XLA (jit_compile=True for kerasreg: "auto" leaves
# out fits this short): XLA's one-time start-up (its compiler's memory among
# it) is not counted in the first measured fit that compiles.
W4_WARMUP_ROWS = 4096
W4_REPEAT_S = 3.0


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


def worker(n, epochs, key):
    """Runs in a fresh process; prints one JSON line."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=n, n_features=W4_FEATURES, noise=10.0, random_state=0)
    X, y = X.astype(np.float32), y.astype(np.float32)
    gc.collect()
    c = contenders.load(key)

    def make(ep):
        return c.estimator(W4_NET["width"], W4_NET["depth"], W4_NET["batch_size"], ep)

    with c.quiet():
        record = _measure(make, X, y, epochs)
    print_json_line(dict(n=n, contender=c.short, **record))


def _measure(make, X, y, epochs):
    # Warm-up on a small slice: imports, thread pools, tracing of the training step.
    warm_up = make(1)
    if "jit_compile" in warm_up.get_params():
        warm_up.set_params(jit_compile=True)
    warm_up.fit(X[:W4_WARMUP_ROWS], y[:W4_WARMUP_ROWS])
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
    return dict(
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


def run(cfg, keys):
    """Results by (contender's short name, rows)."""
    results = {}
    for c in map(contenders.load, keys):
        for n in cfg["w4_sizes"]:
            t0 = perf()
            r = run_worker(MODULE, n, cfg["w4_epochs"], c.key)
            key = (c.short, n)
            if "error" in r:
                results[key] = r
                log(f"  {c.short} n={n}: ERROR {r['error']}")
                continue
            r["s_per_epoch_1"] = r["fit1_s"] / r["epochs"]
            r["s_per_epoch"] = r["best_fit_s"] / r["epochs"]
            r["us_per_row"] = 1e6 * r["s_per_epoch"] / n
            r["peak_extra_bytes"] = (r["peak_kib"] - r["base_kib"]) * 1024
            r["rss_ratio"] = r["peak_extra_bytes"] / r["input_bytes"]
            if r.get("peak2_kib") is not None:
                r["rss_ratio_2"] = (r["peak2_kib"] - r["base2_kib"]) * 1024 / r["input_bytes"]
            results[key] = r
            log(
                f"  {c.short} n={n}: {r['s_per_epoch']:.3f} s/epoch, "
                f"RSS x{r['rss_ratio']:.2f} input ({perf() - t0:.0f} s incl. process start)"
            )
    return results


def report(cfg, results, labels):
    rows = []
    for label in labels:
        for n in cfg["w4_sizes"]:
            r = results.get((label, n))
            if r is None:
                continue
            if "error" in r:
                rows.append([label, f"{n:,}"] + ["–"] * 7 + ["error: " + r["error"][:200]])
                continue
            rows.append(
                [
                    label,
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
    headers = [
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
    ]
    net = W4_NET
    return "\n".join(
        [
            "### W4: scale (synthetic data)",
            "",
            f"`make_regression(n_samples=N, n_features={W4_FEATURES}, noise=10, random_state=0)` "
            f"as float32; {net['depth']}×{net['width']} ReLU, batch {net['batch_size']}, "
            f"{cfg['w4_epochs']} epochs, early_stopping=False. Each size runs in a fresh "
            f"subprocess (`python -m {MODULE} N`) that first does a warm-up fit on "
            f"{W4_WARMUP_ROWS} rows (excluded; 16 batches with kerasreg's jit_compile=True, so "
            "it loads TensorFlow and starts XLA), then fits on all N rows with the defaults "
            "(kerasreg's jit_compile='auto': plain graphs below 5,000 steps a fit, so XLA at "
            "1,000,000 rows only), at least 2 and up to 5 "
            f"while they take under {W4_REPEAT_S:.0f} s together; each fit builds a new "
            "estimator. s/epoch (1st fit) includes whatever the first fit at this size "
            "compiles; s/epoch, µs/row·epoch and the flatness target use the best of the fits "
            "(how many in parentheses).",
            "",
            md_table(headers, rows),
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


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=f"python -m {MODULE}", description="W4's measurement of one size, in this process."
    )
    p.add_argument("rows", type=int)
    p.add_argument("epochs", type=int)
    p.add_argument("contender", help="a module of benchmarks/bench/contenders")
    args = p.parse_args(argv)
    worker(args.rows, args.epochs, args.contender)


if __name__ == "__main__":
    main()
