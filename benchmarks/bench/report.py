"""The Markdown report: the machine, the targets (as data, below), one section per workload."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import contenders
from .harness import W1_NET, W2_NET
from .markdown import md_table
from .workloads import dense, first_fit, imports, predict, w3, w4, w5


@dataclass(frozen=True)
class Reading:
    """What a target's metric read from the results."""

    value: Any  # what is compared with the threshold
    shown: str  # the 'measured' cell
    label: str | None = None  # replaces the target's label (to name sizes, say)
    threshold: Any = None  # replaces the target's threshold (one from the same run)


@dataclass(frozen=True)
class Target:
    key: str
    label: str  # the row's first cell (a reading may replace it)
    workload: str  # the results entry the metric reads: results[workload]
    metric: Callable[[dict, dict], Reading | None]  # (results[workload], results); None: n/a
    compare: str  # "≤", "<", "≥", or "is"
    threshold: Any  # None: the reading brings its own
    threshold_text: str | None = None  # the 'threshold' cell, if not "<compare> <threshold>"

    def row(self, results):
        shown = self.threshold_text or f"{self.compare} {self.threshold}"
        reading = self.metric(results.get(self.workload) or {}, results)
        if reading is None:
            return [self.label, "–", shown, "n/a"]
        limit = self.threshold if reading.threshold is None else reading.threshold
        ok = COMPARE[self.compare](reading.value, limit)
        return [reading.label or self.label, reading.shown, shown, "PASS" if ok else "FAIL"]


COMPARE = {"≤": operator.le, "<": operator.lt, "≥": operator.ge, "is": operator.is_}


def ratio(metric, other):
    """kerasreg's ``metric`` ÷ contender ``other``'s, in one workload's results."""

    def read(section, results):
        mine = (section.get(contenders.name_of(contenders.BASELINE)) or {}).get(metric)
        theirs = (section.get(contenders.name_of(other)) or {}).get(metric)
        if not (mine and theirs):
            return None
        return Reading(mine / theirs, f"{mine / theirs:.3f}")

    return read


def _peak_fraction(section, results):
    peak = results.get("peak")
    gflops = (section.get(contenders.name_of(contenders.BASELINE)) or {}).get("gflops")
    if not (peak and gflops):
        return None
    reference = peak.get(dense.IN_GRAPH) or max(peak.values())
    frac = gflops / reference
    return Reading(frac, f"{frac:.1%} of {reference:.0f} GFLOP/s")


def _fastest_peer(metric):
    """kerasreg's ``metric`` ÷ the lowest of every other contender that ran."""

    def read(section, results):
        base = contenders.name_of(contenders.BASELINE)
        mine = (section.get(base) or {}).get(metric)
        peers = {n: r[metric] for n, r in section.items() if n != base and r.get(metric)}
        if not (mine and peers):
            return None
        name = min(peers, key=peers.get)
        return Reading(mine / peers[name], f"{mine / peers[name]:.3f} (vs {name})")

    return read


def _first_fit_overhead(row=None):
    """first − repeat of kerasreg's row (or the given one) in the first-fit table."""

    def read(section, results):
        r = section.get(row or contenders.name_of(contenders.BASELINE)) or {}
        if r.get("overhead_s") is None:
            return None
        return Reading(r["overhead_s"], f"{r['overhead_s']:.2f} ({r['first_s']:.2f} − "
                       f"{r['repeat_s']:.2f})")  # fmt: skip

    return read


def _w3_mae(section, results):
    mine = (section.get(contenders.name_of(contenders.BASELINE)) or {}).get("best_mae")
    theirs = (section.get(contenders.name_of("mlp")) or {}).get("best_mae")
    if mine is None or theirs is None:
        return None
    return Reading(mine, f"{mine:.4f} vs {theirs:.4f}", threshold=theirs)


def _w4_kerasreg(section):
    """kerasreg's W4 results by rows, those that ran."""
    short = contenders.load(contenders.BASELINE).short
    return {n: r for (c, n), r in section.items() if c == short and "us_per_row" in r}


def _w4_spread(section, results):
    runs = _w4_kerasreg(section)
    if len(runs) < 2:
        return None
    per_row = [r["us_per_row"] for r in runs.values()]
    spread = max(per_row) / min(per_row)
    label = f"W4 time per row, max ÷ min over {min(runs):,}–{max(runs):,} rows"
    return Reading(spread, f"{spread:.2f}", label=label)


def _w4_rss(section, results):
    runs = _w4_kerasreg(section)
    if not runs:
        return None
    largest = runs[max(runs)]["rss_ratio"]
    others = ", ".join(f"{runs[n]['rss_ratio']:.2f} at {n:,}" for n in sorted(runs)[:-1])
    label = f"W4 peak RSS beyond baseline ÷ input bytes, 1st fit at {max(runs):,} rows"
    return Reading(largest, f"{largest:.2f}" + (f" ({others})" if others else ""), label=label)


def _w5_ratio(key):
    def metric(section, results):
        t1, t2 = ((section.get(n) or {}).get(key) for n in (1, 2))
        if not (t1 and t2):
            return None
        return Reading(t2 / t1, f"{t2 / t1:.3f}")

    return metric


def _import_time(section, results):
    if section.get("import_s") is None:
        return None
    ref = (section.get("reference") or {}).get("sklearn.base")
    alone = f" (`import sklearn.base` alone: {ref:.3f})" if ref else ""
    return Reading(section["import_s"], f"{section['import_s']:.3f}" + alone)


def _bare_import(section, results):
    bare = section.get("bare_import_s")
    return None if bare is None else Reading(bare, f"{bare:.3f}")


def _tf_loaded(section, results):
    loaded = section.get("tf_loaded")
    return None if loaded is None else Reading(loaded, "imports it" if loaded else "no TF")


def _predict_one(section, results):
    one = (section.get(predict.BASELINE_CALL) or {}).get("one_ms")
    return None if one is None else Reading(one, f"{one:.3f}")


TARGETS = [
    Target("w1_vs_keras", "W1 kerasreg ms/epoch ÷ Keras model.fit",
           workload="w1", metric=ratio("ms_per_epoch", "keras"), compare="≤", threshold=0.3),
    Target("w1_vs_mlp", "W1 kerasreg ms/epoch ÷ MLPRegressor",
           workload="w1", metric=ratio("ms_per_epoch", "mlp"), compare="≤", threshold=0.6),
    Target("w1_vs_keras_jax_tuned", "W1 kerasreg ms/epoch ÷ Keras on JAX, tuned",
           workload="w1", metric=ratio("ms_per_epoch", "keras_jax_tuned"), compare="≤",
           threshold=0.8),
    Target("w1_peak_fraction", "W1 kerasreg GFLOP/s ÷ in-graph matmul rate (W1's product)",
           workload="w1", metric=_peak_fraction, compare="≥", threshold=0.8,
           threshold_text="≥ 80%"),
    Target("w2_vs_mlp", "W2 kerasreg ms/epoch ÷ MLPRegressor",
           workload="w2", metric=ratio("ms_per_epoch", "mlp"), compare="≤", threshold=0.7),
    Target("w2_vs_fastest", "W2 kerasreg ms/epoch ÷ the fastest other contender",
           workload="w2", metric=_fastest_peer("ms_per_epoch"), compare="≤", threshold=0.2),
    Target("first_fit_overhead", "W1 first fit in a fresh process − repeat fit (s)",
           workload="first_fit", metric=_first_fit_overhead(), compare="≤", threshold=0.3),
    Target("first_fit_overhead_cached",
           "W1 first fit − repeat, a fresh process with a filled KERASREG_XLA_CACHE (s)",
           workload="first_fit", metric=_first_fit_overhead(first_fit.CACHED), compare="≤",
           threshold=0.3),
    Target("w3_vs_scikeras", "W3 kerasreg wall ÷ scikeras",
           workload="w3", metric=ratio("wall_s", "scikeras"), compare="≤", threshold=0.2),
    Target("w3_vs_mlp", "W3 kerasreg wall ÷ MLPRegressor",
           workload="w3", metric=ratio("wall_s", "mlp"), compare="≤", threshold=0.5),
    Target("w3_mae", "W3 kerasreg best CV MAE vs MLPRegressor's",
           workload="w3", metric=_w3_mae, compare="≤", threshold=None,
           threshold_text="≤ MLPRegressor's"),
    Target("w4_row_time_spread", "W4 time per row flat",
           workload="w4", metric=_w4_spread, compare="≤", threshold=1.5),
    Target("w4_rss_ratio", "W4 peak RSS ÷ input bytes",
           workload="w4", metric=_w4_rss, compare="≤", threshold=3.0),
    Target("w5_parallel", "W5 GridSearchCV wall, n_jobs=2 ÷ n_jobs=1",
           workload="w5", metric=_w5_ratio("wall_s"), compare="≤", threshold=0.6),
    Target("w5_parallel_again",
           "W5 the same search again in that process (workers reused), n_jobs=2 ÷ n_jobs=1",
           workload="w5", metric=_w5_ratio("again_wall_s"), compare="≤", threshold=0.6),
    Target("import_s", "`import kerasreg; kerasreg.DenseRegressor()` time (s)",
           workload="import", metric=_import_time, compare="≤", threshold=0.3),
    Target("bare_import_s",
           "`import kerasreg` alone (s); scikit-learn loads with the first estimator",
           workload="import", metric=_bare_import, compare="≤", threshold=0.3),
    Target("no_tf", "`import kerasreg` does not import tensorflow",
           workload="import", metric=_tf_loaded, compare="is", threshold=False,
           threshold_text="no TF"),
    Target("predict_1row_ms", "one-row predict (ms, median)",
           workload="predict", metric=_predict_one, compare="≤", threshold=1.0),
]  # fmt: skip


def target(key):
    return next(t for t in TARGETS if t.key == key)


def targets_table(results, targets=TARGETS):
    return "\n".join(
        [
            "### Targets",
            "",
            md_table(
                ["target", "measured", "threshold", "result"], [t.row(results) for t in targets]
            ),
            "",
            "All ratios come from this run. n/a: a contender or workload did not run.",
        ]
    )


def build_report(quick, cfg, machine, res, elapsed):
    mode = "quick (`--quick`)" if quick else "full"
    parts = [
        "# kerasreg benchmark results",
        "",
        f"Generated by `python benchmarks/run.py{' --quick' if quick else ''}` "
        f"({mode} run, {elapsed / 60:.1f} min).",
        "",
        md_table(["machine", ""], [[k, v] for k, v in machine.items()]),
    ]
    if res.get("data_note"):
        parts += ["", f"Data: {res['data_note']}"]
    parts += ["", targets_table(res)]
    d = res.get("d")
    if "w1" in res:
        title = "W1: the seed's network"
        w1 = dense.report(title, d, W1_NET, cfg["w1_epochs"], res["w1"], res.get("peak"))
        parts += ["", w1]
    if "w2" in res:
        parts += ["", dense.report("W2: a small network", d, W2_NET, cfg["w2_epochs"], res["w2"])]
    if "w1" in res or "w2" in res:
        parts += ["", dense.FOOTNOTE]
    if "first_fit" in res:
        parts += ["", first_fit.report(res["first_fit"], cfg)]
    if "w3" in res:
        parts += ["", w3.report(d, cfg, res["w3"])]
    if "w4" in res:
        parts += ["", w4.report(cfg, res["w4"], res["w4_contenders"])]
    if "w5" in res:
        parts += ["", w5.report(d, cfg, res["w5"])]
    if "predict" in res:
        parts += ["", predict.report(cfg, res["predict"])]
    if "import" in res:
        parts += ["", imports.report(res["import"])]
    if res.get("sections"):
        sections = ", ".join(f"{k} {v:.0f} s" for k, v in res["sections"].items())
        parts += ["", f"Wall time by section: {sections}."]
    return "\n".join(parts) + "\n"
