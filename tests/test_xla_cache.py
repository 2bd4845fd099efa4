"""The persistent XLA cache (``KERASREG_XLA_CACHE``): a later process loads, not compiles.

Each run is a fresh Python process: TensorFlow reads its XLA flags once per process.
"""

import json
import os
import subprocess
import sys

import pytest

from kerasreg._compat.startup import CACHE_FROM, _version

pytestmark = pytest.mark.integration


def first_tf_version():
    from importlib import metadata

    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    raise AssertionError("TensorFlow is not installed")


TF_VERSION = _version(first_tf_version())

_FIT = """
import json, os, warnings
warnings.simplefilter("ignore")
import numpy as np
from kerasreg import DenseRegressor
before = os.environ.get("TF_XLA_FLAGS")
rng = np.random.RandomState(0)
X = rng.rand(200, 3)
# Batches of 8: 25 an epoch, compiled with XLA; two networks, two programs.
reg = DenseRegressor(width=8, depth=1, epochs=3, batch_size=8, random_state=0).fit(X, X.sum(1))
wide = DenseRegressor(width=40, depth=1, epochs=3, batch_size=8, random_state=0).fit(X, X.sum(1))
pred = reg.predict(X[:5]).tolist() + wide.predict(X[:5]).tolist()
print(json.dumps({"pred": pred, "before": before,
                  "after": os.environ.get("TF_XLA_FLAGS")}))
"""


def _fit(**env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.pop("KERASREG_XLA_CACHE", None)
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", _FIT], capture_output=True, text=True, timeout=300,
        env=environment, check=True,
    )  # fmt: skip
    return result.stderr, json.loads(result.stdout.splitlines()[-1])


def _programs(root):
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.mark.skipif(
    TF_VERSION < CACHE_FROM, reason="this TensorFlow's cache keys change from process to process"
)
def test_a_later_process_loads_the_compiled_programs(tmp_path):
    stderr, first = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    programs = _programs(tmp_path)
    assert len(programs) == 2, "the first process did not write its two compiled programs"
    # One directory per TensorFlow version and CPU: another machine's code never runs.
    assert {p.parent.name.split("-cpu-")[0] for p in programs} == {"tf-" + first_tf_version()}
    stderr_again, again = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    # Loaded, not compiled again: TensorFlow would have written the files anew.
    assert _programs(tmp_path) == programs
    # Quiet (TensorFlow logs two error lines as it loads; they are not errors),
    # the environment as it was, and the same numbers as a process without a cache.
    assert stderr == stderr_again == ""
    assert first["after"] is None and again["after"] is None
    _, uncached = _fit()
    assert first["pred"] == again["pred"] == uncached["pred"]


def test_the_users_xla_flags_are_kept(tmp_path):
    flags = "--tf_xla_cpu_global_jit=false"
    _, result = _fit(KERASREG_XLA_CACHE=str(tmp_path), TF_XLA_FLAGS=flags)
    assert result["before"] == result["after"] == flags
    # Cached from the first TensorFlow whose keys are stable across processes only.
    assert bool(_programs(tmp_path)) == (TF_VERSION >= CACHE_FROM)
