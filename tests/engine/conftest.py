import pytest
from sklearn.datasets import make_regression

from kerasreg._engine import POOL, tuned


@pytest.fixture(scope="module")
def engine_data():
    """90 rows, 3 features: in batches of 4, enough steps per epoch for XLA."""
    return make_regression(n_samples=90, n_features=3, noise=0.1, random_state=1)


@pytest.fixture(autouse=True)
def no_address_space_limit():
    # These tests expect jit_compile="auto"'s choice of XLA, which a runner's
    # `ulimit -v` would turn off.
    with tuned(xla_min_address_space=0):
        yield


@pytest.fixture
def fresh_pool():
    """An empty workspace cache, emptied again after the test."""
    POOL.clear()
    yield POOL
    POOL.clear()
