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
caught = warnings.catch_warnings(record=True)
seen = caught.__enter__()
warnings.simplefilter("always")
import numpy as np
from kerasreg import DenseRegressor
before = os.environ.get("TF_XLA_FLAGS")
rng = np.random.RandomState(0)
X = rng.rand(200, 3)
if os.environ.get("FIT_DEPTH_2_FIRST"):  # another program traced first
    DenseRegressor(width=8, depth=2, epochs=1, batch_size=8, random_state=0,
                   jit_compile=True).fit(X, X.sum(1))
# Batches of 8: 25 an epoch, compiled with XLA; two networks, two programs.
reg = DenseRegressor(width=8, depth=1, epochs=3, batch_size=8, random_state=0,
                     jit_compile=True).fit(X, X.sum(1))
wide = DenseRegressor(width=100, depth=1, epochs=3, batch_size=8, random_state=0,
                      jit_compile=True).fit(X, X.sum(1))
pred = reg.predict(X[:5]).tolist() + wide.predict(X[:5]).tolist()
cache = [str(w.message) for w in seen if "KERASREG_XLA_CACHE" in str(w.message)]
print(json.dumps({"pred": pred, "before": before, "cache_warnings": cache,
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
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.pb") if p.is_file()}


needs_stable_keys = pytest.mark.skipif(
    TF_VERSION < CACHE_FROM, reason="this TensorFlow's cache keys change from process to process"
)


@needs_stable_keys
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
    # Each program sealed (kerasreg._xla_cache): what a later process may load.
    assert all(p.with_name(p.name + ".seal").is_file() for p in programs)
    assert first["cache_warnings"] == again["cache_warnings"] == []


@needs_stable_keys
def test_the_programs_are_loaded_whatever_was_traced_before(tmp_path):
    # TensorFlow names a traced function with a number counted across the
    # process, and keys a cached program by those names: before the names
    # were made stable (kerasreg._compat.tensorflow.stable_names), a process
    # that traced a depth-2 network first compiled both depth-1 programs again.
    _, first = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    programs = _programs(tmp_path)
    _, again = _fit(KERASREG_XLA_CACHE=str(tmp_path), FIT_DEPTH_2_FIRST="1")
    now = _programs(tmp_path)
    assert {p: now[p] for p in programs} == programs, "the depth-1 programs were compiled again"
    assert len(now) == len(programs) + 1  # the depth-2 network's own
    assert again["pred"] == first["pred"]


@needs_stable_keys
def test_a_damaged_program_is_compiled_again_not_loaded(tmp_path):
    # Measured before the seals: a truncated file failed every later fit of its
    # program (OutOfRangeError), a damaged one too (DataLossError), in every process.
    _, first = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    truncated, damaged = sorted(_programs(tmp_path))
    truncated.write_bytes(truncated.read_bytes()[:1000])
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2 :: 97] = bytes(len(data[len(data) // 2 :: 97]))
    damaged.write_bytes(bytes(data))
    stderr, again = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    assert stderr == ""
    assert again["pred"] == first["pred"]
    # Compiled afresh, written and sealed again; a third process loads them.
    rewritten = _programs(tmp_path)
    assert sorted(rewritten) == [truncated, damaged]
    assert all(p.with_name(p.name + ".seal").is_file() for p in rewritten)
    _, third = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    assert _programs(tmp_path) == rewritten and third["pred"] == first["pred"]


def test_a_directory_that_cannot_be_the_cache_is_not_used(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    preds = []
    for root, why in ((afile, "cannot be created"), (shared, "others can write to the directory")):
        stderr, result = _fit(KERASREG_XLA_CACHE=str(root))
        assert stderr == ""
        (warning,) = result["cache_warnings"]
        if TF_VERSION < CACHE_FROM:  # never used there: said so
            assert "not used with TensorFlow" in warning and "Upgrade TensorFlow" in warning
        else:
            assert why in warning and "unset it" in warning
        preds.append(result["pred"])
    assert preds[0] == preds[1]  # fits as without a cache
    assert list(shared.rglob("*.pb")) == []


def test_the_users_xla_flags_are_kept(tmp_path):
    flags = "--tf_xla_cpu_global_jit=false"
    _, result = _fit(KERASREG_XLA_CACHE=str(tmp_path), TF_XLA_FLAGS=flags)
    assert result["before"] == result["after"] == flags
    # Cached from the first TensorFlow whose keys are stable across processes only
    # (and said so below it).
    assert bool(_programs(tmp_path)) == (TF_VERSION >= CACHE_FROM)
    assert bool(result["cache_warnings"]) == (TF_VERSION < CACHE_FROM)


_FIT_DAMAGED = """
import json, warnings
warnings.simplefilter("ignore")
import numpy as np
from kerasreg import DenseRegressor
rng = np.random.RandomState(0)
X = rng.rand(200, 3)
reg = DenseRegressor(width=8, depth=1, epochs=3, batch_size=8, random_state=0, jit_compile=True)
try:
    reg.fit(X, X.sum(1))
    error = None
except Exception as e:
    error = [type(e).__name__, str(e)]
plain = DenseRegressor(width=8, depth=1, epochs=3, batch_size=8, random_state=0, jit_compile=False)
print(json.dumps({"error": error, "fitted": hasattr(reg, "n_iter_"),
                  "plain": plain.fit(X, X.sum(1)).n_iter_}))
"""


@needs_stable_keys
def test_a_program_tensorflow_cannot_read_gives_a_clear_error_and_is_removed(tmp_path):
    # Damaged and sealed again: past the seals (as if another process had
    # damaged it while this one ran); TensorFlow's DataLossError names the file.
    _, first = _fit(KERASREG_XLA_CACHE=str(tmp_path))
    from kerasreg._xla_cache import seal

    narrow = min(_programs(tmp_path), key=lambda p: p.stat().st_size)
    narrow.write_bytes(b"\xff" * 4096)
    narrow.with_name(narrow.name + ".seal").unlink()
    seal(narrow.parent)
    environment = {**os.environ, "KERASREG_XLA_CACHE": str(tmp_path)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-c", _FIT_DAMAGED], capture_output=True, text=True, timeout=300,
        env=environment, check=True,
    )  # fmt: skip
    record = json.loads(result.stdout.splitlines()[-1])
    kind, message = record["error"]
    assert kind == "CacheError"
    assert str(narrow) in message and "restart Python" in message and "jit_compile=False" in message
    assert not record["fitted"] and record["plain"] == 3  # the estimator untouched; no XLA: fits
    assert not narrow.exists()
    _, again = _fit(KERASREG_XLA_CACHE=str(tmp_path))  # compiled afresh
    assert again["pred"] == first["pred"]
