"""Traced programs on disk (``KERASREG_XLA_CACHE``'s ``traces``): a later process does not trace.

The reference is the trace itself: a program defined from a saved trace must
train exactly as the traced one, bit for bit. Each run is a fresh process
(the first trace of a program in a process is the one saved and loaded).
"""

import json
import os
import subprocess
import sys

import pytest

from kerasreg import _trace_cache
from kerasreg._compat.startup import CACHE_FROM
from tests.test_xla_cache import TF_VERSION

_FIT = """
import json, os
import numpy as np
from kerasreg import DenseRegressor
from kerasreg._engine import POOL
rng = np.random.RandomState(0)
X = rng.rand(120, 3)
out = {}
for jit in (False, True):
    reg = DenseRegressor(width=8, depth=2, epochs=4, batch_size=16, random_state=0,
                         jit_compile=jit).fit(X, X.sum(1))
    out[str(jit)] = reg.predict(X[:5]).tolist()
if os.environ.get("FIT_WITH_CALLBACK"):  # a callback sets the weights: the "assign" program
    import keras

    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.set_weights([w * 0.5 for w in self.model.get_weights()])

    reg = DenseRegressor(width=8, depth=2, epochs=3, batch_size=16, random_state=0,
                         jit_compile=False, callbacks=[Halve()]).fit(X, X.sum(1))
    out["callback"] = reg.predict(X[:5]).tolist()
out["traced"] = sum(sum(ws.traced.values()) for _, ws in POOL.idle())
print(json.dumps(out))
"""


def _fit(cache=None, **env):
    environment = {k: v for k, v in os.environ.items() if k != "KERASREG_XLA_CACHE"}
    environment.update(env)
    if cache is not None:
        environment["KERASREG_XLA_CACHE"] = str(cache)
    result = subprocess.run(
        [sys.executable, "-c", _FIT], capture_output=True, text=True, timeout=300,
        env=environment, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.splitlines()[-1])


def _traces(root):
    return sorted(root.rglob("*.trace"))


@pytest.mark.integration
@pytest.mark.skipif(TF_VERSION < CACHE_FROM, reason="the cache needs TensorFlow >= 2.21")
def test_a_later_process_defines_the_programs_and_trains_bit_for_bit(tmp_path):
    plain = _fit()
    first = _fit(tmp_path)
    # Two workspaces (a plain graph, XLA), three programs each (loading and
    # reading weights, the epochs; setting them is for callbacks).
    assert first["traced"] == 6
    assert len(_traces(tmp_path)) == 6
    again = _fit(tmp_path)
    assert again["traced"] == 0
    assert again == {**first, "traced": 0}
    assert first == {**plain, "traced": 6}

    # A damaged file is removed and traced again; the rest are still used.
    damaged = _traces(tmp_path)[0]
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    repaired = _fit(tmp_path)
    assert repaired["traced"] == 1
    assert repaired == {**first, "traced": 1}
    assert _trace_cache.read(str(damaged.parent), "not its key") is None
    assert len(_traces(tmp_path)) == 6

    # Setting the weights (a callback's change): traced on first use, then defined.
    called = _fit(tmp_path, FIT_WITH_CALLBACK="1")
    assert called["traced"] == 1 and len(_traces(tmp_path)) == 7
    again = _fit(tmp_path, FIT_WITH_CALLBACK="1")
    assert again == {**called, "traced": 0}
    assert again["callback"] == _fit(FIT_WITH_CALLBACK="1")["callback"]


def test_files_round_trip_and_unsound_ones_are_removed(tmp_path):
    folder = str(tmp_path / "traces")
    _trace_cache.write(folder, "key", b"graph bytes", name="f", captured=[2, 0])
    saved = _trace_cache.read(folder, "key")
    assert saved["payload"] == b"graph bytes"
    assert (saved["name"], saved["captured"]) == ("f", [2, 0])
    assert _trace_cache.read(folder, "another key") is None
    (path,) = _traces(tmp_path)

    for damage in (
        lambda b: b[:-1],  # truncated
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # a flipped bit
        lambda b: b"not json\n" + b,
        lambda b: b.replace(b'"format": 1', b'"format": 99'),
        lambda b: b"[]\n",
    ):
        _trace_cache.write(folder, "key", b"graph bytes", name="f", captured=[])
        path.write_bytes(damage(path.read_bytes()))
        assert _trace_cache.read(folder, "key") is None
        assert not path.exists()

    _trace_cache.write(folder, "key", b"graph bytes", name="f", captured=[])
    with open(path, "ab") as f:
        f.truncate(_trace_cache.MAX_FILE_BYTES + 1)
    assert _trace_cache.read(folder, "key") is None
    assert not path.exists()


def test_at_most_max_files_are_kept_the_oldest_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(_trace_cache, "MAX_FILES", 3)
    folder = str(tmp_path)
    for i in range(5):
        _trace_cache.write(folder, f"key {i}", b"x", name="f")
        os.utime(_trace_cache._path(folder, f"key {i}"), ns=(i * 10**9, i * 10**9))
    kept = [i for i in range(5) if _trace_cache.read(folder, f"key {i}") is not None]
    assert kept == [2, 3, 4]

    # A temporary file a process left when it died goes once stale, not before.
    left, fresh = tmp_path / "x.trace.123.tmp", tmp_path / "y.trace.124.tmp"
    left.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(left, (0, 0))
    _trace_cache.write(folder, "key 5", b"x", name="f")
    assert not left.exists() and fresh.exists()


def test_a_process_defines_what_it_traced_and_traces_a_second_workspace(tmp_path, monkeypatch):
    # In this process: the first workspace of a key saves its traces and runs
    # the programs defined from them; a second one (a concurrent fit) traces
    # as without a cache. Both load and read weights alike.
    import numpy as np

    from kerasreg._engine import program, traced, tuned
    from kerasreg._engine.cache import Structure
    from kerasreg._network import NetworkSpec

    monkeypatch.setattr(traced, "trace_cache_directory", lambda: str(tmp_path))
    spec = NetworkSpec(3, 1, (5,))
    weights = [np.full(s, i + 1.0, np.float32) for i, s in enumerate(spec.weight_shapes())]
    with tuned(max_epochs_per_call=37):  # a key no other test traced in this process
        first = program.Workspace(Structure(spec), "adam", "mae", False)
        second = program.Workspace(Structure(spec), "adam", "mae", False)
    assert isinstance(first._load, traced.Defined) and isinstance(first._read, traced.Defined)
    assert not isinstance(second._load, traced.Defined)
    assert dict(first.traced) == dict(second.traced) == {"load": 1, "read": 1}
    assert len(_traces(tmp_path)) == 2
    for ws in (first, second):
        ws.reset(weights, 0.01, [0])
        assert all(np.array_equal(a, b) for a, b in zip(ws.get_weights(), weights))


def test_where_tensorflow_gives_no_definitions_the_traced_programs_run(tmp_path, monkeypatch):
    # The fallback of kerasreg._compat.functions.export_function (an internal
    # API): nothing saved, the traced functions run as without a cache.
    import numpy as np

    from kerasreg._compat import functions
    from kerasreg._engine import program, traced, tuned
    from kerasreg._engine.cache import Structure
    from kerasreg._network import NetworkSpec

    monkeypatch.setattr(traced, "trace_cache_directory", lambda: str(tmp_path))
    monkeypatch.setattr(functions, "export_function", lambda concrete, rename: None)
    spec = NetworkSpec(2, 1, (4,))
    weights = [np.full(s, 0.5, np.float32) for s in spec.weight_shapes()]
    with tuned(max_epochs_per_call=38):
        ws = program.Workspace(Structure(spec), "adam", "mae", False)
    assert not isinstance(ws._load, traced.Defined) and not _traces(tmp_path)
    ws.reset(weights, 0.01, [0])
    assert all(np.array_equal(a, b) for a, b in zip(ws.get_weights(), weights))
