"""W1 and W2: one network on red wine, every contender, ms/epoch; W1's matmul peak."""

import gc
import traceback

import numpy as np

from .. import contenders
from ..harness import Skipped, log, timeit
from ..markdown import fmt, md_table, status_cell

MATMUL_N = 2048

FOOTNOTE = (
    "[a] MLPRegressor has no validation loss (none is computed during "
    "its fit) and minimises squared error, not MAE; its ms/epoch therefore "
    "covers training only."
)


def macs(n_features, width, depth):
    sizes = [n_features] + [width] * depth + [1]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def epoch_flops(n_features, width, depth, n_train, n_val):
    """6 x MACs per training row (forward 2, backward 4) + 2 x MACs per validation row."""
    m = macs(n_features, width, depth)
    return 6 * m * n_train + 2 * m * n_val


def run(d, net, epochs, timed_rounds=1):
    """Warm-up fit for every contender, then the timed fit(s), interleaved.

    Returns (results by contender name, the last fitted model by contender name).
    """
    fits, results = {}, {}
    for c in contenders.all_contenders():
        try:
            fits[c.name] = c.dense(d, net, epochs, rounds=1 + timed_rounds)
            results[c.name] = dict(note=c.note)
        except Skipped as exc:
            results[c.name] = dict(skipped=str(exc))
            log(f"  {c.name}: {exc}")
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
    width, depth = net["width"], net["depth"]
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
    models = {name: fit.model for name, fit in fits.items()}
    return results, models


def matmul_peak(n=MATMUL_N, repeats=10):
    """GFLOP/s of an n x n float32 matmul, best of ``repeats``: NumPy and ``tf.matmul``."""
    flops = 2 * n**3
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = {}
    a @ b
    best = min(timeit(lambda: a @ b) for _ in range(repeats))
    out["numpy"] = flops / best / 1e9
    try:
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)

        @tf.function
        def mm(x, y):
            return tf.reduce_sum(tf.matmul(x, y)[:1, :1])

        mm(ta, tb).numpy()
        best = min(timeit(lambda: mm(ta, tb).numpy()) for _ in range(repeats))
        out["tf"] = flops / best / 1e9
        out[IN_GRAPH] = _in_graph_rate(tf, rng, repeats)
    except ImportError:
        pass
    return out


# The peak the W1 target compares with: W1's own product in one TensorFlow graph.
IN_GRAPH = "tf in-graph 256×512×512"


def _in_graph_rate(tf, rng, repeats, rows=256, width=512, steps=50):
    """GFLOP/s of ``steps`` chained rows x width x width matmuls inside one graph call.

    W1's largest product (a batch of 256 rows through a 512 x 512 kernel), with
    no per-call dispatch: the rate TensorFlow's kernels reach on it here.
    """
    x = tf.constant(rng.standard_normal((rows, width), dtype=np.float32))
    k = tf.constant((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32))

    @tf.function(autograph=False)
    def chain(x, k):
        return tf.reduce_sum(
            tf.while_loop(lambda i, h: i < steps, lambda i, h: (i + 1, tf.matmul(h, k)), (0, x))[1]
        )

    chain(x, k).numpy()
    best = min(timeit(lambda: chain(x, k).numpy()) for _ in range(repeats))
    return 2 * rows * width * width * steps / best / 1e9


def report(title, d, net, epochs, results, peak=None):
    base = results.get(contenders.name_of(contenders.BASELINE), {}).get("ms_per_epoch")
    n_timed = max([r.get("n_timed", 1) for r in results.values()] + [1])
    rows = []
    for c in contenders.all_contenders():
        r = results.get(c.name)
        bad = status_cell(r)
        if bad:
            rows.append([c.name] + ["–"] * 6 + [bad])
            continue
        ratio = r["ms_per_epoch"] / base if base else None
        rows.append(
            [
                c.name,
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
    headers = [
        "contender",
        "first fit (s)",
        "ms/epoch",
        "time vs kerasreg",
        "GFLOP/s",
        "val MAE (quality pts)",
        "validation loss",
        "notes",
    ]
    text = [
        f"### {title}",
        "",
        f"{net['depth']}×{net['width']} ReLU, batch {net['batch_size']}, Adam (lr 0.001), "
        f"MAE, {epochs} epochs, no early stopping; red wine 70/30 split "
        f"({len(d.y_tr)} training rows, {len(d.y_va)} validation rows), X and y scaled to "
        f"[0, 1] with the training part's min/max.",
        "",
        md_table(headers, rows),
        "",
        "ms/epoch = wall time of one complete timed `fit` ÷ epochs run"
        + (f" (best of {n_timed} timed fits, `--repeat {n_timed}`)" if n_timed > 1 else "")
        + ". Every contender first "
        "does a warm-up fit (its wall time is the 'first fit' column: building, tracing, "
        "compiling and the run itself), then the timed fit, so one-time tracing is left out "
        "of ms/epoch for all; contenders are interleaved (all warm-up fits, then all timed "
        "fits), but for those marked '(own process)': another Keras backend or PyTorch, "
        "their warm-up and timed fits run back to back in a fresh process of their own. "
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
            "Measured fp32 matmul rates on this machine (best of 10 before and 10 after W1): "
            f"NumPy and `tf.matmul`, one {MATMUL_N}×{MATMUL_N} product per call, and "
            f"{IN_GRAPH}: 50 chained products of W1's own shape (256 rows × 512 × 512) in one "
            "graph call: "
            + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peak.items())
            + ". The target compares kerasreg with the in-graph rate, what TensorFlow's "
            "kernels reach on W1's product without per-call costs.",
        ]
    return "\n".join(text)
