"""First fit in a fresh process: W1's network, every contender, first fit minus a repeat.

Each contender's W1 fit (``first_fit_epochs`` epochs) runs twice in a fresh
``python -m benchmarks.bench.isolated`` process, after its library is
imported: the first pays for starting the library's runtime, tracing and
compiling; the second reuses what the library lets a user reuse. Their
difference is the wait a user sees before the first epoch's work.
"""

import tempfile

from .. import contenders
from ..harness import W1_NET, Skipped, log
from ..isolated import IsolatedFit
from ..markdown import fmt, md_table, status_cell

#: The row of kerasreg in a process whose KERASREG_XLA_CACHE an earlier one filled.
CACHED = "kerasreg, KERASREG_XLA_CACHE filled"


class _WithCache:
    """kerasreg's contender in a fresh process with ``KERASREG_XLA_CACHE`` = folder."""

    key = contenders.BASELINE

    def __init__(self, folder):
        self.folder = folder

    def environment(self):
        return {"KERASREG_XLA_CACHE": self.folder}


def _cached(d, cfg):
    """first_s, repeat_s, overhead_s, import_s of kerasreg with a cache a first process filled."""
    with tempfile.TemporaryDirectory() as folder:
        contender = _WithCache(folder)
        IsolatedFit(contender, d, W1_NET, cfg["first_fit_epochs"], rounds=1)()  # fills it
        fit = IsolatedFit(contender, d, W1_NET, cfg["first_fit_epochs"], rounds=2)
        first, _ = fit()
        repeat, _ = fit()
    return dict(
        first_s=first, repeat_s=repeat, overhead_s=first - repeat, import_s=fit.import_s,
        lazy_import_s=fit.lazy_import_s,
    )  # fmt: skip


def run(d, cfg):
    """Results by contender name: first_s, repeat_s, overhead_s, import_s."""
    results = {}
    for c in contenders.all_contenders():
        try:
            if not isinstance(c, contenders.IsolatedContender):
                c.available()
            fit = IsolatedFit(c, d, W1_NET, cfg["first_fit_epochs"], rounds=2)
            first, _ = fit()
            repeat, _ = fit()
        except Skipped as exc:
            results[c.name] = dict(skipped=str(exc))
            continue
        except Exception as exc:  # noqa: BLE001
            results[c.name] = dict(error=f"{type(exc).__name__}: {exc}")
            log(f"  {c.name}: ERROR {exc}")
            continue
        results[c.name] = dict(
            first_s=first, repeat_s=repeat, overhead_s=first - repeat, import_s=fit.import_s,
            lazy_import_s=fit.lazy_import_s,
        )  # fmt: skip
        log(f"  {c.name}: first {first:.2f} s, repeat {repeat:.2f} s")
        if c.key == contenders.BASELINE:
            try:
                results[CACHED] = r = _cached(d, cfg)
                log(f"  {CACHED}: first {r['first_s']:.2f} s, repeat {r['repeat_s']:.2f} s")
            except Exception as exc:  # noqa: BLE001
                results[CACHED] = dict(error=f"{type(exc).__name__}: {exc}")
    return results


def report(results, cfg):
    rows = []
    for c in contenders.all_contenders():
        names = [c.name] + ([CACHED] if c.key == contenders.BASELINE else [])
        for name in names:
            r = results.get(name)
            bad = status_cell(r)
            if bad:
                rows.append([name, "–", "–", "–", "–", bad])
                continue
            lazy = r.get("lazy_import_s")
            imported = fmt(r["import_s"], ".2f") + (
                f" + {c.lazy_import} {lazy:.2f}" if lazy is not None else ""
            )
            rows.append(
                [name, imported, fmt(r["first_s"], ".2f"), fmt(r["repeat_s"], ".2f"),
                 fmt(r["overhead_s"], ".2f"), ""]
            )  # fmt: skip
    net = W1_NET
    return "\n".join(
        [
            "### First fit in a fresh process",
            "",
            f"{net['depth']}×{net['width']} ReLU, batch {net['batch_size']}, "
            f"{cfg['first_fit_epochs']} epochs, as in W1; each contender in a fresh process: "
            "its library imported (import s), then the fit twice. First fit minus repeat: what "
            "the first fit costs beyond the work (runtime start, tracing, compiling). kerasreg "
            "imports TensorFlow on its first fit, not at import: here TensorFlow is imported "
            "before the first fit and timed apart (a user's first fit waits for it too). "
            f"'{CACHED}': kerasreg in a fresh process with `KERASREG_XLA_CACHE` set to a "
            "new directory that one earlier process (the same fit, not timed) filled with its "
            "traced programs (kerasreg._trace_cache), as a second run of a script finds it.",
            "",
            md_table(
                [
                    "contender",
                    "import (s)",
                    "first fit (s)",
                    "repeat (s)",
                    "first − repeat (s)",
                    "status",
                ],
                rows,
            ),  # fmt: skip
        ]
    )
