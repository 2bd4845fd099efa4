"""One benchmark run: the workloads in order, the report, the files it writes."""

import contextlib
import gc
import json
from pathlib import Path

from . import contenders, readme
from .harness import (
    RESULTS_MD,
    W1_NET,
    W2_NET,
    WineData,
    error_text,
    load_average,
    log,
    machine_description,
    perf,
    settings,
)
from .report import build_report
from .workloads import dense, first_fit, imports, predict, w3, w4, w5

WORKLOADS = ["w1", "w2", "first_fit", "w3", "w4", "w5", "predict", "import"]


def run(only, quick=False, repeat=1, w4_mlp=None):
    """Run the workloads in ``only``; returns (results, machine, seconds)."""
    cfg = settings(quick)
    t_start = perf()
    machine = machine_description()
    res = {}
    sections = res["sections"] = {}
    mark = [perf()]

    def done(name):
        sections[name] = perf() - mark[0]
        mark[0] = perf()

    # Import time first, in fresh subprocesses, before this process loads TensorFlow.
    if "import" in only:
        log("import time ...")
        try:
            res["import"] = imports.run(ref_repeats=1 if quick else 3)
        except Exception as exc:  # noqa: BLE001
            res["import"] = dict(error=error_text(exc), import_s=None, tf_loaded=None)
        done("import")
    d = res["d"] = WineData()
    res["data_note"] = d.note
    models = {}
    if "w1" in only:
        log("matmul peak ...")
        before = dense.matmul_peak()
        log(f"W1 ({cfg['w1_epochs']} epochs) ...")
        res["w1"], models = dense.run(d, W1_NET, cfg["w1_epochs"], repeat)
        after = dense.matmul_peak()
        # Measured on both sides of W1, the better kept: a busy machine lowers it.
        res["peak"] = {k: max(before[k], after[k]) for k in before}
        done("matmul peak + W1")
    if "w2" in only:
        log(f"W2 ({cfg['w2_epochs']} epochs) ...")
        res["w2"], _ = dense.run(d, W2_NET, cfg["w2_epochs"], repeat)
        done("W2")
    if "first_fit" in only:
        log("first fit in a fresh process ...")
        res["first_fit"] = first_fit.run(d, cfg)
        done("first fit")
    if "predict" in only:
        log("predict latency ...")
        if not models:
            _, models = dense.run(d, W1_NET, 2, timed_rounds=0)
        res["predict"] = predict.run(d, models, cfg)
        done("predict")
    del models
    gc.collect()
    if "w3" in only:
        log("W3 ...")
        res["w3"] = w3.run(d, cfg, quick)
        done("W3")
    if "w4" in only:
        log("W4 ...")
        w4_mlp = (not quick) if w4_mlp is None else w4_mlp
        keys = [contenders.BASELINE] + (["mlp"] if w4_mlp else [])
        res["w4_contenders"] = [contenders.load(key).short for key in keys]
        res["w4"] = w4.run(cfg, keys)
        done("W4")
    if "w5" in only:
        log("W5 ...")
        res["w5"] = w5.run(cfg, quick)
        done("W5")

    with contextlib.suppress(OSError):
        machine["Load average (1, 5, 15 min) at end"] = load_average()
    return res, machine, perf() - t_start


def main(args, only):
    """``run.py``'s work once its arguments are parsed; ``only``: the workloads to run."""
    output = args.output or (None if args.quick else str(RESULTS_MD))
    res, machine, elapsed = run(only, args.quick, args.repeat, args.w4_mlp)
    report = build_report(args.quick, settings(args.quick), machine, res, elapsed)
    print(report)
    if output:
        Path(output).write_text(report, encoding="utf-8")
        log(f"wrote {output}")
    if args.json:
        raw = {k: v for k, v in res.items() if k != "d"}
        if "w4" in raw:
            raw["w4"] = {f"{c}:{n}": r for (c, n), r in raw["w4"].items()}
        with contextlib.suppress(TypeError):
            Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    if output and Path(output).resolve() == RESULTS_MD:
        # README.md's performance table follows the committed results.
        try:
            if readme.write():
                log(f"rewrote README.md's benchmark table from {output}")
        except (OSError, ValueError) as exc:
            log(f"README.md's table not updated: {exc}")
    return 0
