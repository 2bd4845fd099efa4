"""Which program trains a fit: traced once per structure, a bounded cache, XLA where it pays."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import idle_workspace

from kerasreg import DenseRegressor
from kerasreg._engine import POOL, XLA_BUDGET, tuned
from kerasreg._engine.cache import use_xla
from kerasreg._network import NetworkSpec


def test_same_structure_never_traces_again(engine_data, fresh_pool):
    X, y = engine_data
    # Folds of different sizes, learning rates, seeds, widths, batch sizes and
    # numbers of features: one traced program for networks of depth 2.
    for i, lr in enumerate([0.01, 0.001, 0.05]):
        rows = slice(i * 2, 90 - i * 2)
        for width, batch_size, features in [(7, 16, 3), (5, 64, 3), (7, 16, 2)]:
            reg = DenseRegressor(
                width=width, depth=2, epochs=3, learning_rate=lr, batch_size=batch_size,
                random_state=i,
            ).fit(X[rows, :features], y[rows])  # fmt: skip
            assert reg.model_.layers[0].kernel.shape == (features, width)
    assert len(POOL.idle()) == 1
    assert idle_workspace(2).traces == 1


def test_networks_sharing_a_workspace_train_as_if_alone(engine_data, fresh_pool):
    # A workspace's variables take each network's shapes in turn; what ran
    # before leaves no trace in the next fit.
    X, y = engine_data
    params = dict(depth=1, epochs=5, batch_size=16, random_state=0, early_stopping=False)
    alone = DenseRegressor(width=6, **params).fit(X, y).predict(X)
    DenseRegressor(width=9, **params).fit(X[:50, :2], y[:50])
    after = DenseRegressor(width=6, **params).fit(X, y).predict(X)
    np.testing.assert_array_equal(alone, after)
    assert len(POOL.idle()) == 1


def test_cache_is_bounded(engine_data):
    X, y = engine_data
    with tuned(idle_workspaces=3):
        for depth in range(6):
            DenseRegressor(width=2, depth=depth, epochs=1).fit(X, y)
        assert len(POOL.idle()) == 3


def test_graph_mode_after_the_xla_budget(engine_data, fresh_pool):
    # Past the XLA budget, workspaces run the same epoch without XLA: same
    # results up to rounding, and nothing compiled that the process keeps.
    X, y = engine_data
    # 90 rows in batches of 4: enough steps per epoch for XLA, and for this
    # test enough in the fit.
    params = dict(width=3, depth=1, epochs=3, batch_size=4, random_state=0, early_stopping=False)
    with tuned(xla_min_fit_steps=1):
        with_xla = DenseRegressor(**params).fit(X, y).predict(X)
    assert idle_workspace(1).xla is True
    POOL.clear()
    XLA_BUDGET.reset()
    with tuned(xla_programs=0, xla_min_fit_steps=1):
        without = DenseRegressor(**params).fit(X, y).predict(X)
    assert idle_workspace(1).xla is False
    np.testing.assert_allclose(without, with_xla, rtol=1e-4, atol=1e-4)


# Batches of 64 (2 steps an epoch) and of 4 (23 steps, 46 in 2 epochs): what runs each.
@pytest.mark.parametrize(
    "jit_compile, xla", [("auto", (False, False)), (True, (True, True)), (False, (False, False))]
)
def test_xla_only_where_it_pays_or_where_asked(engine_data, fresh_pool, jit_compile, xla):
    # XLA compiles for ~1 s; a plain graph traces in ~0.2 s and runs a few
    # large steps about as fast. The choice is the fit's own, not the
    # process's; jit_compile True or False overrides it, as in Keras's compile().
    small, large = NetworkSpec(11, 1, (64, 64)), NetworkSpec(11, 1, (512, 512, 512))
    assert not use_xla(small, steps_per_epoch=5)
    assert use_xla(small, steps_per_epoch=35)
    assert not use_xla(small, steps_per_epoch=5, row_epochs=10**9)
    # Small networks: XLA saves tens of microseconds a step, which pay for
    # its compilation only over thousands of steps. The benchmark's W3 fits
    # (597 rows in batches of 32, at most 200 epochs) run as plain graphs;
    # its W2 (1,119 rows, 200 epochs) with XLA.
    assert not use_xla(small, steps_per_epoch=19, epochs=200)
    assert use_xla(small, steps_per_epoch=35, epochs=200)
    # Large layers: XLA's ~10% a step pays for its compilation over enough
    # work; not over the course's fit (1,119 rows, at most 300 epochs).
    assert not use_xla(large, steps_per_epoch=5, row_epochs=1119 * 300)
    assert use_xla(large, steps_per_epoch=5, row_epochs=1119 * 1000)
    assert use_xla(large, steps_per_epoch=44, row_epochs=11190 * 300)
    assert use_xla(small, 5, np.True_) and not use_xla(large, 5, np.False_)
    X, y = engine_data
    for batch_size, expected in zip((64, 4), xla):
        DenseRegressor(width=5, depth=1, epochs=2, batch_size=batch_size,
                       jit_compile=jit_compile).fit(X, y)  # fmt: skip
        (_, ws), *_ = reversed(POOL.idle())
        assert ws.xla is expected


def test_small_networks_compile_only_over_enough_steps(engine_data, fresh_pool):
    # 90 rows in batches of 4: 23 steps an epoch, 69 in the most epochs (3).
    X, y = engine_data
    params = dict(width=5, depth=1, epochs=3, batch_size=4, early_stopping=False)
    for min_steps, expected in ((69, True), (70, False)):
        POOL.clear()
        with tuned(xla_min_fit_steps=min_steps):
            DenseRegressor(**params).fit(X, y)
        assert idle_workspace(1).xla is expected


def test_large_layers_compile_only_over_enough_work(engine_data, fresh_pool):
    # The work a fit may do: multiply-adds per row x training rows x epochs.
    # Here 32 (3 inputs x 8 units + 8 x 1) x 90 rows x 2 epochs = 5,760,
    # with every network counted as large; 2 steps an epoch.
    X, y = engine_data
    params = dict(width=8, depth=1, epochs=2, batch_size=64, early_stopping=False)
    for min_work, expected in ((5760, True), (5761, False)):
        POOL.clear()
        with tuned(xla_min_macs=1, xla_min_work=min_work):
            DenseRegressor(**params).fit(X, y)
        assert idle_workspace(1).xla is expected


def test_xla_budget_binds_auto_only(engine_data, fresh_pool):
    X, y = engine_data
    XLA_BUDGET.reset()
    # Fits this short compile with XLA only where xla_min_fit_steps allows.
    with tuned(xla_programs=0, xla_min_fit_steps=1):
        for jit_compile, expected in (("auto", False), (np.True_, True)):
            POOL.clear()
            reg = DenseRegressor(width=5, depth=1, epochs=2, batch_size=4, jit_compile=jit_compile)
            reg.fit(X, y)
            assert idle_workspace(1).xla is expected


_UNDER_A_LIMIT = """
import resource, sys
import numpy as np
resource.setrlimit(resource.RLIMIT_AS, (3_000_000_000, resource.RLIM_INFINITY))
from kerasreg import DenseRegressor
from kerasreg._engine import POOL
rng = np.random.RandomState(0)
X = rng.rand(1000, 20)
# 63 mini-batches an epoch, 5,040 in 80 epochs: XLA where memory is not limited.
reg = DenseRegressor(width=32, depth=2, batch_size=16, epochs=80, random_state=0)
reg.fit(X, X.sum(1))
print("xla", [key[3] for key, _ in POOL.idle()])
"""


@pytest.mark.integration
def test_a_fit_under_an_address_space_limit_does_not_abort(tmp_path):
    # XLA's compiler fails to start its threads under `prlimit --as=3000000000`
    # and aborts the process (SIGABRT); "auto" trains a plain graph there.
    result = subprocess.run(
        [sys.executable, "-c", _UNDER_A_LIMIT], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "xla [False]" in result.stdout


def test_early_stopped_fits_count_patiences_not_epochs(engine_data, fresh_pool):
    # With early stopping a fit is expected to run at most xla_patiences x
    # patience epochs (here 10 x 1 of 50) of 18 steps (72 rows after the
    # validation split), without it all 50 of 23 steps (90 rows).
    X, y = engine_data
    params = dict(width=5, depth=1, epochs=50, batch_size=4, patience=1)
    for early_stopping, min_steps, expected in (
        (True, 180, True), (True, 181, False), (False, 1150, True), (False, 1151, False)
    ):  # fmt: skip
        POOL.clear()
        with tuned(xla_min_fit_steps=min_steps, xla_patiences=10):
            DenseRegressor(early_stopping=early_stopping, **params).fit(X, y)
        assert idle_workspace(1).xla is expected
