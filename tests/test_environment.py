"""kerasreg in the user's process: quiet, the environment untouched, any Keras backend.

Each test runs in a fresh Python process, since TensorFlow starts once per process.
"""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

_FIT = """
import json, os, sys, warnings
warnings.simplefilter("ignore")  # kerasreg's own warnings are not the point here
if sys.argv[1:] == ["--libraries-first"]:
    # What the libraries themselves set when imported (TensorFlow sets a few
    # variables) is theirs: what kerasreg's fit changes is compared.
    import keras, sklearn, tensorflow
before = dict(os.environ)
import numpy as np
from kerasreg import DenseRegressor
rng = np.random.RandomState(0)
X = rng.rand(200, 3)
# Batches of 8: 25 an epoch, compiled with XLA, whose first compilation logs too.
reg = DenseRegressor(width=8, depth=1, epochs=3, batch_size=8, random_state=0,
                     jit_compile=True).fit(X, X.sum(1))
reg.predict(X[:2])
reg.model_
print(json.dumps({"environment_unchanged": dict(os.environ) == before}))
"""


def _run(code, *args, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
        env=environment, check=True,
    )  # fmt: skip


def test_a_first_fit_prints_nothing():
    assert _run(_FIT).stderr == ""


def test_a_fit_leaves_the_environment_as_it_was():
    result = _run(_FIT, "--libraries-first")
    assert json.loads(result.stdout.splitlines()[-1]) == {"environment_unchanged": True}


def test_tensorflow_logs_show_when_the_user_asks_for_them():
    # TF_CPP_MIN_LOG_LEVEL=0: the user wants TensorFlow's info logs, and sees them.
    result = _run(_FIT, TF_CPP_MIN_LOG_LEVEL="0")
    assert result.stderr.strip()


_OTHER_BACKEND = """
import json, os, sys, tempfile, warnings
warnings.simplefilter("ignore")
import numpy as np
import keras
from kerasreg import DenseRegressor, load
rng = np.random.RandomState(0)
X = rng.rand(300, 3)
y = X @ [1.0, 2.0, 3.0]
reg = DenseRegressor(width=8, depth=2, epochs=5, random_state=0).fit(X, y)
model = reg.model_
scaled = reg.x_scaler_.transform(X[:5])
out = keras.ops.convert_to_numpy(model(scaled.astype("float32")))
ours = reg.y_scaler_.transform(reg.predict(X[:5])[:, None])
path = os.path.join(tempfile.mkdtemp(), "m.kr")
reg.save(path)
print(json.dumps({
    "backend": keras.backend.backend(),
    "model_matches": bool(np.allclose(out, ours, rtol=1e-4, atol=1e-5)),
    "loaded_matches": bool((load(path).predict(X) == reg.predict(X)).all()),
    "n_iter": reg.n_iter_,
}))
"""


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_fit_predict_model_and_save_in_another_keras_backend(backend):
    # The engine trains with TensorFlow whatever KERAS_BACKEND says; model_
    # is a Keras model in the user's backend. (Keras's numpy backend imports
    # JAX, so both need the test extra's jax.)
    result = _run(_OTHER_BACKEND, KERAS_BACKEND=backend)
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {
        "backend": backend,
        "model_matches": True,
        "loaded_matches": True,
        "n_iter": 5,
    }


_KERAS_LATER = """
import json, sys, threading, warnings
warnings.simplefilter("ignore")
if sys.argv[1:] == ["--keras-first"]:
    import keras
if sys.argv[1:] == ["--another-thread"]:
    done = threading.Event()
    threading.Thread(target=done.wait, daemon=True).start()
import numpy as np
from kerasreg import DenseRegressor
rng = np.random.RandomState(0)
X = rng.rand(200, 3)
reg = DenseRegressor(width=8, depth=1, epochs=3, random_state=0).fit(X, X.sum(1))
loaded = "keras" in sys.modules
import keras
import tensorflow as tf
tf.keras.optimizers.Adam(0.01)
again = DenseRegressor(
    width=8, depth=1, epochs=3, random_state=0, verbose=2,
    callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=1)],
).fit(X, X.sum(1))
print(json.dumps({
    "keras_loaded_by_fit": loaded,
    "model": type(reg.model_).__name__,
    "prediction": reg.predict(X[:3]).tolist(),
    "same_with_callbacks": bool((again.predict(X) == reg.predict(X)).all()),
}))
"""


def test_a_fit_without_callbacks_does_not_load_keras():
    # TensorFlow's import loads Keras whole, which a fit without callbacks
    # never uses: kerasreg imports TensorFlow without it, another thread
    # alive or not, and Keras loads as usual when the user imports it. The
    # fit's results are those of a process that imported Keras first.
    def report(*args):
        return json.loads(_run(_KERAS_LATER, *args).stdout.splitlines()[-1])

    without, keras_first, threaded = report(), report("--keras-first"), report("--another-thread")
    assert without["keras_loaded_by_fit"] is False
    assert threaded["keras_loaded_by_fit"] is False
    assert keras_first["keras_loaded_by_fit"] is True
    for r in (without, keras_first, threaded):
        assert r["model"] == "Sequential" and r["same_with_callbacks"] is True
    assert without["prediction"] == keras_first["prediction"] == threaded["prediction"]


_KERAS_IN_ANOTHER_THREAD = """
import importlib.util, json, sys, threading
from kerasreg._compat import startup
where = importlib.util.find_spec("keras").origin
with startup._without_keras():
    skipped_here = importlib.util.find_spec("keras").origin
    try:
        import keras
        refused = False
    except ImportError:
        refused = True
    there = {}
    def other():
        import keras
        there["version"] = keras.__version__
        there["adam"] = type(keras.optimizers.Adam(0.01)).__name__
    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
import keras
print(json.dumps({
    "refused_here": refused,
    "found_where_it_is": skipped_here == where,
    "other_thread": there,
    "later": keras.__version__,
    "finder_removed": not any(isinstance(f, startup._KerasSkipped) for f in sys.meta_path),
}))
"""


def test_keras_loads_in_other_threads_while_tensorflow_imports_without_it():
    # Only the thread importing TensorFlow skips Keras, and only meanwhile:
    # TensorFlow still finds where Keras is (for tf.keras), another thread's
    # import of Keras at that moment works, and so does a later one.
    report = json.loads(_run(_KERAS_IN_ANOTHER_THREAD).stdout.splitlines()[-1])
    import keras

    assert report == {
        "refused_here": True,
        "found_where_it_is": True,
        "other_thread": {"version": keras.__version__, "adam": "Adam"},
        "later": keras.__version__,
        "finder_removed": True,
    }
