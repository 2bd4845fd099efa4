"""Import time: ``import kerasreg`` (and its first estimator) in fresh processes."""

import contextlib
import subprocess
import sys

from ..harness import child_env, perf
from ..markdown import md_table

STATEMENT = "import kerasreg; kerasreg.DenseRegressor()"
MODULES = ("tensorflow", "keras", "sklearn", "pandas")
PROBE = (
    "import sys, time; t = time.perf_counter(); {stmt}; t = time.perf_counter() - t; "
    "print(t, *(m in sys.modules for m in ('tensorflow', 'keras', 'sklearn', 'pandas')))"
)


def time_import(stmt, repeats=3):
    """Best of `repeats` fresh processes: (seconds inside the process, process wall, flags)."""
    best, wall, flags = None, None, None
    for _ in range(repeats):
        t0 = perf()
        proc = subprocess.run(
            [sys.executable, "-c", PROBE.format(stmt=stmt)],
            capture_output=True,
            text=True,
            env=child_env(),
        )
        w = perf() - t0
        if proc.returncode != 0:
            raise RuntimeError((proc.stderr.strip().splitlines() or ["?"])[-1])
        t, *f = proc.stdout.split()
        best = float(t) if best is None else min(best, float(t))
        wall = w if wall is None else min(wall, w)
        flags = dict(zip(MODULES, (x == "True" for x in f), strict=True))
    return best, wall, flags


def _top_imports(stmt):
    """Top-level imports by cumulative time, from one ``-X importtime`` run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", stmt],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    top = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if name.startswith(" ") and not name.startswith("   "):  # top level only
                top.append((int(parts[1]) / 1e6, name.strip()))
    top.sort(reverse=True)
    return top[:6]


def run(ref_repeats=3):
    try:
        full, wall, flags = time_import(STATEMENT)
        bare, _, bare_flags = time_import("import kerasreg")
    except RuntimeError as exc:
        return dict(error=str(exc), import_s=None, tf_loaded=None)
    ref = {}
    for mod in ("numpy", "sklearn.base", "pandas"):
        with contextlib.suppress(RuntimeError):
            ref[mod] = time_import(f"import {mod}", ref_repeats)[0]
    return dict(
        import_s=full,
        process_wall_s=wall,
        bare_import_s=bare,
        tf_loaded=flags["tensorflow"],
        flags=flags,
        bare_flags=bare_flags,
        reference=ref,
        ref_repeats=ref_repeats,
        top=_top_imports(STATEMENT),
        error=None,
    )


def report(r):
    if r is None:
        return ""
    if r["error"]:
        return f"### Import\n\n`import kerasreg` failed: {r['error']}"

    def loaded(flags):
        return ", ".join(m for m, on in flags.items() if on) or "none of them"

    top = ", ".join(f"{name} {t:.3f} s" for t, name in r["top"])
    rows = [
        [f"`{STATEMENT}` (s)", f"{r['import_s']:.3f}", loaded(r["flags"])],
        ["`import kerasreg` alone (s)", f"{r['bare_import_s']:.3f}", loaded(r["bare_flags"])],
        [
            "whole `python -c 'import kerasreg; ...'` process wall time (s)",
            f"{r['process_wall_s']:.3f}",
            "",
        ],
    ]
    rows += [[f"reference: `import {m}` (s)", f"{t:.3f}", ""] for m, t in r["reference"].items()]
    rows += [
        [
            "largest top-level imports of the first line (`-X importtime`, cumulative, one run)",
            top or "–",
            "",
        ]
    ]
    return "\n".join(
        [
            "### Import",
            "",
            md_table(["measure", "value", "of tensorflow, keras, sklearn, pandas: loaded"], rows),
            "",
            "Each time is measured inside a fresh `python -c` process around the statement, best "
            f"of 3 processes (the references: best of {r['ref_repeats']}). Python's own start-up "
            "is excluded except in the process wall time row.",
        ]
    )
