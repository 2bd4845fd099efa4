"""DenseRegressor under parallelism: joblib processes, threads and Dask.

The engine caches compiled workspaces per architecture in ``kerasreg._engine.POOL``
and checks a workspace out of the pool for the length of a fit, so concurrent
fits never share variables. These tests check that parallel and serial runs give
the same numbers.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from helpers import tiny
from sklearn.model_selection import GridSearchCV

GRID = {"width": [4, 8], "depth": [1, 2]}
# Dask workers are fresh processes that import TensorFlow and trace every
# architecture they meet: two architectures keep the test short.
DASK_GRID = {"width": [4, 8], "depth": [1]}


@pytest.fixture(scope="module")
def serial_search(data):
    """The reference: the grid search in this process, one candidate at a time."""
    start = time.perf_counter()
    search = GridSearchCV(tiny(), GRID, cv=2, n_jobs=1).fit(*data)
    search.elapsed_ = time.perf_counter() - start
    return search


def assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    assert list(search.cv_results_["params"]) == list(reference.cv_results_["params"])
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        search.cv_results_["split0_test_score"],
        reference.cv_results_["split0_test_score"],
        rtol=1e-6,
    )


@pytest.fixture
def loky_workers():
    """Shut joblib's reusable loky workers (each holds TensorFlow) down afterwards."""
    from joblib.externals.loky import get_reusable_executor

    yield
    get_reusable_executor().shutdown(wait=True)


def test_grid_search_in_loky_processes(data, serial_search, loky_workers):
    start = time.perf_counter()
    search = GridSearchCV(tiny(), GRID, cv=2, n_jobs=2).fit(*data)
    elapsed = time.perf_counter() - start
    print(
        f"\nGridSearchCV 4 candidates x cv=2: n_jobs=1 {serial_search.elapsed_:.1f} s, "
        f"n_jobs=2 (loky) {elapsed:.1f} s"
    )
    assert_same_search(search, serial_search)
    # The refitted best estimator predicts like a serial refit.
    np.testing.assert_allclose(search.predict(data[0]), serial_search.predict(data[0]), rtol=1e-6)


def test_predict_from_threads(data):
    X, y = data
    reg = tiny().fit(X, y)
    expected = reg.predict(X)

    def predict_many(_):
        return [reg.predict(X) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(predict_many, range(4)))
    assert len(results) == 4
    for per_thread in results:
        assert len(per_thread) == 20
        for pred in per_thread:
            np.testing.assert_array_equal(pred, expected)


@pytest.mark.parametrize(
    "params",
    [
        dict(width=8, depth=1),
        # Dropout draws its masks from seeds in the workspace's variables:
        # a shared workspace would mix the two fits' seeds.
        dict(width=8, depth=2, dropout=0.2, batch_norm=True),
    ],
    ids=["plain", "dropout-batchnorm"],
)
def test_concurrent_fits_of_one_architecture(data, params):
    X, y = data
    # Two different problems on the same architecture, so that a shared
    # workspace (variables, optimizer slots) would show in the predictions.
    jobs = [
        (tiny(random_state=1, **params), X, y),
        (tiny(random_state=2, **params), X, -3 * y + 7),
    ]
    serial = [reg.fit(Xj, yj).predict(X) for reg, Xj, yj in jobs]

    fresh = [
        (tiny(random_state=1, **params), X, y),
        (tiny(random_state=2, **params), X, -3 * y + 7),
    ]
    # Two rounds, to give the threads more than one chance to interleave. (Each
    # round builds and compiles a second workspace: the pool keeps one idle
    # workspace per architecture.)
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(lambda j: j[0].fit(j[1], j[2]).predict(X), j) for j in fresh]
            concurrent = [f.result() for f in futures]
        for got, want in zip(concurrent, serial):
            np.testing.assert_array_equal(got, want)


def _workspaces_here():
    """Run on a Dask worker: how many workspaces its engine holds."""
    import sys

    engine = sys.modules.get("kerasreg._engine")
    return 0 if engine is None else len(engine.POOL._idle)


@pytest.mark.integration
def test_grid_search_on_dask(data):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    X, y = data
    # The architectures are traced in this process already: the reference is quick.
    reference = GridSearchCV(tiny(), DASK_GRID, cv=2, n_jobs=1).fit(X, y)
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        client.wait_for_workers(2, timeout=60)
        search = GridSearchCV(tiny(), DASK_GRID, cv=2)
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        # The folds were fitted on the workers: they hold trained workspaces.
        trained = client.run(_workspaces_here)
        assert sum(trained.values()) > 0, trained
        fitted = time.perf_counter()
    stopped = time.perf_counter()
    print(
        f"\nDask: cluster start {started - start:.1f} s, grid search {fitted - started:.1f} s, "
        f"shutdown {stopped - fitted:.1f} s"
    )
    assert_same_search(search, reference)
    np.testing.assert_allclose(search.predict(X), reference.predict(X), rtol=1e-6)


def _fit_in_child(X, y, queue):
    try:
        tiny().fit(X, y)
        queue.put("fitted")
    except RuntimeError as e:
        queue.put(str(e))


@pytest.mark.integration
def test_fit_in_a_forked_child_fails_fast_with_the_fix(data):
    # TensorFlow does not survive fork(): a fit in a child forked after a fit
    # here would wait forever for the parent's thread pools.
    import multiprocessing

    X, y = data
    reg = tiny().fit(X, y)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_fit_in_child, args=(X, y, queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the fit in the forked child hung")
    message = queue.get(timeout=5)
    assert "forked" in message and "'spawn' or 'forkserver'" in message and "joblib" in message
    # predict is NumPy only: it works in a forked child.
    with context.Pool(1) as pool:
        np.testing.assert_array_equal(pool.apply(reg.predict, (X,)), reg.predict(X))


@pytest.mark.integration
def test_the_first_fit_sizes_tensorflow_s_pools_from_the_environment():
    # Up to the process's CPUs: with 100,000 asked for, TensorFlow starting as
    # many threads hung the first fit (measured, before the cap).
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, warnings\n"
        "import numpy as np\n"
        "from kerasreg import DenseRegressor\n"
        "X = np.random.RandomState(0).rand(60, 3)\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    DenseRegressor(width=4, depth=1, epochs=1, early_stopping=False).fit(X, X.sum(1))\n"
        "import tensorflow as tf\n"
        "print(json.dumps([tf.config.threading.get_intra_op_parallelism_threads(),\n"
        "                  tf.config.threading.get_inter_op_parallelism_threads(),\n"
        "                  [str(w.message) for w in seen if 'THREADS' in str(w.message)]]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["KERASREG_NUM_THREADS"] = "100000"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
        check=True,
    )  # fmt: skip
    intra, inter, said = json.loads(result.stdout.splitlines()[-1])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert intra == inter == cpus
    assert len(said) == 1 and f"TensorFlow gets {cpus} threads" in said[0]
