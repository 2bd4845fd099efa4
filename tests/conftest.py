import os

import pytest

# Keep TensorFlow's C++ logs out of test output; set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def data():
    """A small regression problem: 120 rows, 4 features."""
    from sklearn.datasets import make_regression

    return make_regression(n_samples=120, n_features=4, noise=0.5, random_state=0)


@pytest.fixture(scope="module")
def wine_split():
    """Red wine, 70/30 as the course splits it."""
    from sklearn.model_selection import train_test_split

    from kerasreg.datasets import load_red_wine

    X, y = load_red_wine(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)
