"""Many fits in one process keep its memory bounded.

Runs a small ``benchmarks/memory.py`` in a fresh subprocess (so that this
session's TensorFlow state and earlier tests do not count) and reads its
readings of the resident set size (VmRSS).

The run: widths 4, 8, 16 x depths 1, 2 are six architectures, with the
engine's cache cut to ``MAX_IDLE`` = 4 idle workspaces (it ships with room for
32, which would take a minute of traces just to fill). Each architecture is
fitted once in turn (so the cache is full before fit 10), then in blocks of
``BLOCK`` fits: the first fit of a block misses the cache (a workspace is
built, traced and compiled, 1-2 s, and the least recently used one is
evicted), the others reuse it (tens of milliseconds). ``FITS`` fits are 20
traces and 40 cached fits, about 40 s on two shared cores.

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

FITS = 60
BLOCK = 4
MAX_IDLE = 4
LIMIT_MIB = 100
# What a new workspace may leave behind once the cache is full: the cache
# holds at most max_idle workspaces, so a bounded process leaves ~nothing.
PER_TRACE_LIMIT_MIB = 1.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory") / "memory.json"
    args = [
        "--fits",
        str(FITS),
        "--widths",
        "4,8,16",
        "--depths",
        "1,2",
        "--max-idle",
        str(MAX_IDLE),
    ]
    args += ["--order", "warm-blocks", "--block", str(BLOCK), "--json", str(out), "--quiet"]
    subprocess.run([sys.executable, str(BENCHMARK), *args], check=True, timeout=600)
    result = json.loads(out.read_text())
    readings = {r["fit"]: (round(r["rss_mib"], 1), r["traces"]) for r in result["readings"]}
    print(
        f"\n{FITS} fits, {result['traces']} traces in {result['elapsed_s']:.1f} s; "
        f"(RSS MiB, traces) by fit: {readings}; growth after fit 10: "
        f"{result['growth_after_10_mib']:+.1f} MiB"
    )
    return result


def test_rss_grows_under_100_mib_after_the_first_10_fits(run):
    # Eviction was exercised: more architectures than the cache holds.
    assert run["architectures"] > run["max_idle"]
    assert run["traces"] >= run["architectures"] + (FITS - run["architectures"]) // BLOCK
    assert run["growth_after_10_mib"] < LIMIT_MIB, run["readings"]


@pytest.mark.xfail(
    strict=True,
    reason="each new XLA-compiled workspace leaves ~5 MiB behind (TensorFlow keeps "
    "every jit_compile function's compiled program; the engine stops compiling after "
    "_engine._XLA_WORKSPACES); see benchmarks/memory.py",
)
def test_rss_per_new_workspace_is_bounded(run):
    first = next(r for r in run["readings"] if r["fit"] == 10)
    last = run["readings"][-1]
    traces = last["traces"] - first["traces"]
    assert traces >= 10
    per_trace = (last["rss_mib"] - first["rss_mib"]) / traces
    assert per_trace < PER_TRACE_LIMIT_MIB, f"{per_trace:.2f} MiB per new workspace"
