"""Many fits in one process keep its memory bounded.

Runs a small ``benchmarks/memory.py`` in a fresh subprocess (so that this
session's TensorFlow state and earlier tests do not count) and reads its
readings of the resident set size (VmRSS).

The run: widths 4, 8, 16 x depths 1, 2 are six architectures, with the
engine's cache cut to ``MAX_IDLE`` = 4 idle workspaces (it ships with room for
32, which would take a minute of traces just to fill). Each architecture is
fitted once in turn (so the cache is full before fit 10), then in blocks of
``BLOCK`` fits: the first fit of a block misses the cache (a workspace is
built and traced, ~0.5 s, and the least recently used one is evicted), the
other reuses it (tens of milliseconds). ``FITS`` fits are ~75 traces, about
a minute on two shared cores. These fits have 4 steps per epoch, so the engine
runs them as plain graphs; a second, shorter run in batches of 4 (32 steps per
epoch) measures XLA-compiled workspaces (~1.5 s each).

A full 200-fit run takes minutes (``python benchmarks/memory.py --fits 200``),
so the issue's "200 fits grow RSS by under 100 MB after the first 10" is
checked here on what fits in a minute, and a second test bounds the growth per
new workspace, which is what 200 fits over many architectures multiply.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "memory.py"

FITS = 150
BLOCK = 2
MAX_IDLE = 4
LIMIT_MIB = 100
# What a new workspace may leave behind once the cache is full: the cache
# holds at most max_idle workspaces, so a bounded process leaves ~nothing.
PER_TRACE_LIMIT_MIB = 1.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc"),
]


def _run(tmp_path_factory, fits, block, batch_size):
    out = tmp_path_factory.mktemp("memory") / "memory.json"
    args = ["--fits", str(fits), "--widths", "4,8,16", "--depths", "1,2"]
    args += ["--max-idle", str(MAX_IDLE), "--batch-size", str(batch_size)]
    args += ["--order", "warm-blocks", "--block", str(block), "--json", str(out), "--quiet"]
    subprocess.run([sys.executable, str(BENCHMARK), *args], check=True, timeout=600)
    result = json.loads(out.read_text())
    readings = {r["fit"]: (round(r["rss_mib"], 1), r["traces"]) for r in result["readings"]}
    print(
        f"\n{fits} fits ({result['compiled']}), {result['traces']} traces in "
        f"{result['elapsed_s']:.1f} s; (RSS MiB, traces) by fit: {readings}; growth after "
        f"fit 10: {result['growth_after_10_mib']:+.1f} MiB"
    )
    return result


def _per_new_workspace_mib(run, start):
    first = next(r for r in run["readings"] if r["fit"] == start)
    last = run["readings"][-1]
    traces = last["traces"] - first["traces"]
    assert traces >= 10
    return (last["rss_mib"] - first["rss_mib"]) / traces


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # 128 rows in batches of 32: 4 steps per epoch, run as plain graphs.
    result = _run(tmp_path_factory, FITS, BLOCK, batch_size=32)
    assert result["compiled"] == "plain graphs"
    return result


def test_rss_grows_under_100_mib_after_the_first_10_fits(run):
    # Eviction was exercised: more architectures than the cache holds.
    assert run["architectures"] > run["max_idle"]
    assert run["traces"] >= run["architectures"] + (FITS - run["architectures"]) // BLOCK
    assert run["growth_after_10_mib"] < LIMIT_MIB, run["readings"]


def test_rss_per_new_graph_workspace_is_bounded(run):
    # From fit 100 on: the allocator's own growth is over by then (a 300-fit
    # run grew 0.9 MiB per new workspace from fit 50 to 100, 0.2 from 200 to
    # 300: arenas filling, not workspaces kept).
    per_trace = _per_new_workspace_mib(run, start=100)
    assert per_trace < PER_TRACE_LIMIT_MIB, f"{per_trace:.2f} MiB per new workspace"


@pytest.mark.xfail(
    strict=True,
    reason="each new XLA-compiled workspace leaves ~5 MiB behind (TensorFlow keeps "
    "every jit_compile function's compiled program; the engine compiles with XLA only "
    "where it pays, and stops after _engine._XLA_WORKSPACES); see benchmarks/memory.py",
)
def test_rss_per_new_xla_workspace_is_bounded(tmp_path_factory):
    # Batches of 4: 32 steps per epoch, compiled with XLA. Blocks of 2 fits:
    # 10+ new workspaces after fit 10 in 30 fits.
    result = _run(tmp_path_factory, 30, 2, batch_size=4)
    assert result["compiled"] == "XLA"
    per_trace = _per_new_workspace_mib(result, start=10)
    assert per_trace < PER_TRACE_LIMIT_MIB, f"{per_trace:.2f} MiB per new workspace"
