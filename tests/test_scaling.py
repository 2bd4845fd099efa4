"""Min-max scaling: MinMaxScaler's values on ordinary data, and no column lost to its units."""

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler

from kerasreg import DenseRegressor
from kerasreg._scaling import column_extremes, fit_scaler, scale
from kerasreg.datasets import load_red_wine

_FAST = dict(width=8, depth=1, batch_size=32, epochs=5, early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def wine():
    X, y = load_red_wine(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def reference(wine):
    X, y = wine
    return DenseRegressor(**_FAST).fit(X, y).predict(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalers_are_min_max_scalers_fitted_on_the_training_rows(wine, dtype):
    X, y = wine
    X = X.astype(dtype)
    reg = DenseRegressor(**_FAST).fit(X, y)
    for ours, data in ((reg.x_scaler_, X), (reg.y_scaler_, y.reshape(-1, 1))):
        theirs = MinMaxScaler().fit(data)
        assert sorted(vars(ours)) == sorted(vars(theirs))
        for attribute, value in vars(theirs).items():
            np.testing.assert_array_equal(getattr(ours, attribute), value, err_msg=attribute)
            assert np.asarray(getattr(ours, attribute)).dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(ours.transform(data), theirs.transform(data))


@pytest.mark.parametrize("c", [1e-30, 1e-15, 1e-5, 3.7, 1e15, 1e30])
@pytest.mark.parametrize("d", [1e-30, 1e-16, 1.0, 1e30])
def test_predictions_scale_with_the_target_whatever_the_units(wine, reference, c, d):
    # Fitting X * c and y * d predicts d times the fit on X and y: the same
    # float32 network is trained, up to float64 rounding of the scaled values.
    X, y = wine
    reg = DenseRegressor(**_FAST).fit(X * c, y * d)
    np.testing.assert_allclose(reg.predict(X * c) / d, reference, rtol=1e-6)


def test_a_column_of_tiny_range_keeps_its_signal(wine):
    X, y = wine
    tiny = X.copy()
    tiny[:, 10] *= 1e-16  # alcohol, the strongest input, in a range of ~1e-15
    reg = DenseRegressor(**_FAST).fit(tiny, y)
    assert reg.x_scaler_.transform(tiny)[:, 10].max() == pytest.approx(1.0)
    theirs = MinMaxScaler().fit(tiny).transform(tiny)[:, 10]
    assert np.ptp(theirs) < 1e-14  # scikit-learn's scaler takes it for a constant


def test_an_exactly_constant_column_carries_no_signal(wine):
    X, y = wine
    constant = np.column_stack([X, np.full(len(X), 7.5)])
    reg = DenseRegressor(**_FAST).fit(constant, y)
    assert reg.x_scaler_.scale_[-1] == 1.0
    np.testing.assert_array_equal(reg.x_scaler_.transform(constant)[:, -1], 0.0)
    np.testing.assert_array_equal(
        reg.x_scaler_.transform(constant), MinMaxScaler().fit(constant).transform(constant)
    )


def test_a_range_too_small_for_float64_is_named(wine):
    X, y = wine
    with pytest.raises(ValueError, match="range of X .* too small"):
        DenseRegressor(**_FAST).fit(X * 1e-310, y)


@pytest.mark.parametrize("shape", [(1, 3), (64, 2), (65, 2), (1001, 7), (70_001, 3), (5000, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_extremes_are_numpys_min_and_max(shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    # The extremes in the last row, the one an odd number of rows leaves over.
    a[-1, 0], a[-1, -1] = 1e6, -1e6
    low, high = column_extremes(a, chunk_rows=40_000)
    for ours, theirs in ((low, a.min(axis=0)), (high, a.max(axis=0))):
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_by_index_scale_as_their_copy_does(wine, dtype):
    # A held-out split's rows are gathered as they are scaled, not copied first.
    X = wine[0].astype(dtype)
    index = np.random.default_rng(0).permutation(len(X))[:200]
    ours = fit_scaler(X, "X", index=index)
    theirs = fit_scaler(X[index], "X")
    for attribute, value in vars(theirs).items():
        np.testing.assert_array_equal(getattr(ours, attribute), value, err_msg=attribute)
    for scaler in (ours, None):
        expected = scale(scaler, X[index], np.float32)
        np.testing.assert_array_equal(
            scale(scaler, X, np.float32, chunk_rows=64, index=index), expected
        )
        out = np.empty_like(expected)
        scale(scaler, X, out=out, chunk_rows=64, index=index)
        np.testing.assert_array_equal(out, expected)
