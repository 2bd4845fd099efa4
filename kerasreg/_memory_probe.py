"""A memory probe: many fits in one process, does RSS stay bounded?

``tests/test_memory.py`` runs it in a fresh process (``python -m
kerasreg._memory_probe``), and so does ``benchmarks/memory.py`` for longer runs.

Runs ``--fits N`` fits of DenseRegressor in this process, cycling over
architectures, on tiny data with ``epochs=2, early_stopping=False``. By
default: depths 1, 2, 3 x widths 4, 8, 16, 32, 64. The engine keeps one traced
workspace per network structure (here: per depth), so workspaces are evicted
and new ones traced only with more depths than its cache keeps idle
(``settings.idle_workspaces``, 32; ``--max-idle`` lowers it); XLA, where
the engine uses it (``--batch-size 8`` or less), compiles once per architecture.
Prints the resident set size (VmRSS from ``/proc/self/status``) after fit 10,
20, 25, 50, 100, then every 50 and at the end, the growth since fit 10, the
workspaces traced and XLA programs compiled so far, the number of memory
mappings (the kernel stops a process at ``vm.max_map_count``, 65530 by
default) and fits per second.

Run::

    python -m kerasreg._memory_probe --fits 200
    python -m kerasreg._memory_probe --fits 500 --json /tmp/memory.json
    python -m kerasreg._memory_probe --fits 200 --depths 1,2,3,4,5,6 --max-idle 4  # evicts
    # a search's fits: widths 4 to 64 x depths 1 to 3 x two batch sizes, on red wine
    python -m kerasreg._memory_probe --fits 300 --data wine --widths 4-64 --depths 1-3 \
        --batch-sizes 32,256 --order random

With ``--order cycle`` (the default) the architectures come round in turn: with
more structures than the cache holds, every fit misses the cache and builds and
traces a new workspace (the worst case for the cache, about half a second a
fit on a small machine). ``--order random`` draws them at random: fewer misses.
``--order blocks`` fits each architecture ``--block`` times in a row;
``--order warm-blocks`` fits each once in turn first (so that the cache is full
from the start), then in blocks.
The garbage collector runs before each reading, and the C allocator is asked
to return its free pages to the system (glibc's ``malloc_trim``, where there is
one), so that the readings count what is still referenced rather than garbage
waiting for the collector or freed memory the allocator keeps for reuse.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import ctypes
import gc
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np


def _status_kib(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in KiB, or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def release_free_memory():
    """Collect garbage, and return the C allocator's free pages to the system."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def rss_mib():
    kib = _status_kib("VmRSS")
    if kib is None:  # not Linux: the peak, from getrusage, is the best there is
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kib = peak // 1024 if sys.platform == "darwin" else peak
    return kib / 1024


def map_count():
    """Memory mappings of this process (the kernel allows vm.max_map_count)."""
    try:
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def max_map_count():
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def _ints(text):
    """Comma-separated integers; ``a-b`` is every integer from a to b."""
    values = []
    for part in (v.strip() for v in text.split(",")):
        if "-" in part:
            low, high = (int(v) for v in part.split("-"))
            values += range(low, high + 1)
        elif part:
            values.append(int(part))
    return values


def checkpoints(n_fits):
    marks = [m for m in (10, 20, 25, 50, 100) if m <= n_fits]
    marks += list(range(150, n_fits + 1, 50))
    if n_fits not in marks:
        marks.append(n_fits)
    return sorted(set(marks))


def architectures(widths, depths, order, n_fits, block, seed=0, batch_sizes=(32,)):
    """The fits' (width, depth, batch_size), in the order they run."""
    archs = list(itertools.product(widths, depths, batch_sizes))
    if order == "cycle":
        return [archs[i % len(archs)] for i in range(n_fits)]
    if order == "blocks":
        return [archs[(i // block) % len(archs)] for i in range(n_fits)]
    if order == "warm-blocks":
        plan = archs + [archs[(i // block) % len(archs)] for i in range(n_fits)]
        return plan[:n_fits]
    rng = np.random.RandomState(seed)
    return [archs[i] for i in rng.randint(len(archs), size=n_fits)]


BASE_WIDTHS = [4, 8, 16, 32, 64]


def run(
    n_fits, widths=None, depths=(1, 2, 3), order="cycle", block=10, rows=128, features=5,
    max_idle=None, quiet=False, batch_size=32, batch_sizes=None, data="random", epochs=2,
    jit_compile="auto",
):  # fmt: skip
    from sklearn.datasets import make_regression

    from kerasreg import DenseRegressor
    from kerasreg._engine import POOL, XLA_BUDGET, settings
    from kerasreg._engine.cache import use_xla

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if max_idle is not None:
        settings.idle_workspaces = max_idle  # this process is the probe's alone
    depths = list(depths)
    if widths is None:
        widths = list(BASE_WIDTHS)
    batch_sizes = list(batch_sizes or [batch_size])
    if data == "wine":
        from kerasreg.datasets import load_red_wine

        X, y = load_red_wine(return_X_y=True)
        rows, features = X.shape
    else:
        X, y = make_regression(n_samples=rows, n_features=features, noise=1.0, random_state=0)
    plan = architectures(widths, depths, order, n_fits, block, batch_sizes=batch_sizes)

    # Workspaces built (each is a trace) and XLA compilations, as the engine counts them.
    traces_start = POOL.created

    from kerasreg._network import NetworkSpec

    # Whether these fits compile with XLA: the engine's choice, per architecture.
    modes = {
        use_xla(
            NetworkSpec(features, 1, (w,) * d),
            -(-rows // b),
            jit_compile,
            row_epochs=rows * epochs,
            epochs=epochs,
        )  # fmt: skip
        for w, d, b in set(plan)
    }
    xla = {frozenset([True]): "XLA", frozenset([False]): "plain graphs"}.get(
        frozenset(modes), "XLA and plain graphs"
    )
    gc.collect()
    rss_start = rss_mib()
    xla_start = len(XLA_BUDGET)
    say(
        f"{n_fits} fits, {len(set(plan))} architectures (widths {widths} x depths {depths}, "
        f"order {order}), cache max_idle={settings.idle_workspaces}, {rows} rows x {features} "
        f"features, batch_size={batch_sizes} ({xla}), epochs={epochs}; RSS before the first fit "
        f"{rss_start:.1f} MiB"
    )
    say(
        f"{'fit':>6} {'arch':>8} {'RSS MiB':>9} {'growth':>8} {'traces':>7} {'XLA':>5} {'maps':>7} "
        f"{'s':>8} {'fits/s':>7}"
    )
    readings = []
    marks = checkpoints(n_fits)
    start = last_time = time.perf_counter()
    last_fit = 0
    for i, (width, depth, batch) in enumerate(plan, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            DenseRegressor(
                width=width, depth=depth, epochs=epochs, batch_size=batch,
                early_stopping=False, random_state=i, jit_compile=jit_compile,
            ).fit(X, y)  # fmt: skip
        if i in marks:
            release_free_memory()
            now, rss, maps = time.perf_counter(), rss_mib(), map_count()
            base = next((r["rss_mib"] for r in readings if r["fit"] == 10), rss)
            xla_programs = len(XLA_BUDGET) - xla_start
            readings.append(
                dict(
                    fit=i,
                    rss_mib=rss,
                    elapsed_s=now - start,
                    traces=POOL.created - traces_start,
                    xla_programs=xla_programs,
                    maps=maps,
                )  # fmt: skip
            )
            rate = (i - last_fit) / (now - last_time)
            say(
                f"{i:>6} {width:>4}x{depth:<3} {rss:>9.1f} {rss - base:>+8.1f} "
                f"{POOL.created - traces_start:>7} {xla_programs:>5} "
                f"{maps if maps is not None else '?':>7} "
                f"{now - start:>8.1f} {rate:>7.1f}"
            )
            last_time, last_fit = now, i

    elapsed = time.perf_counter() - start
    at_10 = next((r["rss_mib"] for r in readings if r["fit"] == 10), None)
    end = readings[-1]["rss_mib"]
    peak = _status_kib("VmHWM")
    summary = dict(
        fits=n_fits,
        architectures=len(set(plan)),
        order=order,
        batch_sizes=batch_sizes,
        data=data,
        compiled=xla,
        max_idle=settings.idle_workspaces,
        traces=POOL.created - traces_start,
        xla_programs=readings[-1]["xla_programs"],
        rss_start_mib=rss_start,
        rss_after_10_mib=at_10,
        rss_end_mib=end,
        growth_after_10_mib=None if at_10 is None else end - at_10,
        peak_rss_mib=None if peak is None else peak / 1024,
        maps_end=readings[-1]["maps"],
        max_map_count=max_map_count(),
        elapsed_s=elapsed,
        fits_per_s=n_fits / elapsed,
        readings=readings,
    )
    growth = "n/a" if at_10 is None else f"{end - at_10:+.1f} MiB"
    say(
        f"RSS after fit 10: {at_10 if at_10 is None else round(at_10, 1)} MiB, after fit {n_fits}: "
        f"{end:.1f} MiB, growth after the first 10 fits: {growth}; peak "
        f"{summary['peak_rss_mib'] or float('nan'):.1f} MiB; {summary['traces']} traces; "
        f"{summary['maps_end']} memory mappings (vm.max_map_count {summary['max_map_count']}); "
        f"{elapsed:.1f} s, {n_fits / elapsed:.2f} fits/s"
    )
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fits", type=int, default=200, help="number of fits (default 200)")
    parser.add_argument(
        "--widths",
        type=_ints,
        help="comma-separated, a-b for a range (default 4,8,16,32,64)",
    )
    parser.add_argument("--depths", type=_ints, default=[1, 2, 3])
    parser.add_argument(
        "--order", choices=["cycle", "random", "blocks", "warm-blocks"], default="cycle"
    )
    parser.add_argument("--block", type=int, default=10, help="fits in a row with --order blocks")
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--features", type=int, default=5)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="default 32: 4 steps per epoch of 128 rows, plain graphs; 8 or less gives the "
        "16+ steps per epoch for which the engine compiles with XLA",
    )
    parser.add_argument(
        "--batch-sizes",
        type=_ints,
        help="comma-separated batch sizes to cycle through with the architectures "
        "(overrides --batch-size)",
    )
    parser.add_argument(
        "--data",
        choices=["random", "wine"],
        default="random",
        help="random: make_regression with --rows x --features; wine: the bundled red wine "
        "(1,599 x 11)",
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--jit-compile",
        choices=["auto", "true", "false"],
        default="auto",
        help="DenseRegressor's jit_compile (default auto)",
    )
    parser.add_argument(
        "--max-idle", type=int, help="idle workspaces the engine keeps (default: as shipped, 32)"
    )
    parser.add_argument("--json", help="also write the readings to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="print nothing (with --json)")
    args = parser.parse_args(argv)
    if args.fits < 1:
        parser.error("--fits must be at least 1")
    summary = run(
        args.fits, args.widths, args.depths, order=args.order, block=args.block,
        rows=args.rows, features=args.features, max_idle=args.max_idle, quiet=args.quiet,
        batch_size=args.batch_size, batch_sizes=args.batch_sizes, data=args.data,
        epochs=args.epochs,
        jit_compile={"true": True, "false": False}.get(args.jit_compile, "auto"),
    )  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
