"""Validation rows as scikit-learn passes them: X_val, y_val, sample_weight_val, and Pipelines."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine


@pytest.fixture(scope="module")
def wine():
    X, y = load_red_wine(return_X_y=True)
    return train_test_split(X[:600], y[:600], test_size=0.3, random_state=0)


def _reg(**params):
    return DenseRegressor(width=8, depth=1, batch_size=64, epochs=40, patience=3, random_state=0,
                          **params)  # fmt: skip


def _same_fit(a, b, X):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.history_.equals(b.history_)
    assert (a.n_iter_, a.best_epoch_) == (b.n_iter_, b.best_epoch_)


def test_x_val_is_validation_data_by_another_name(wine):
    X, X_val, y, y_val = wine
    w = np.linspace(0.5, 2.0, len(y_val))
    keras_style = _reg().fit(X, y, validation_data=(X_val, y_val, w))
    sklearn_style = _reg().fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w)
    _same_fit(keras_style, sklearn_style, X)
    # The weights count: without them the history differs.
    assert not _reg().fit(X, y, X_val=X_val, y_val=y_val).history_.equals(sklearn_style.history_)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X_val="X_val"), "X_val is provided, but y_val was not provided"),
        (dict(y_val="y_val"), "y_val is provided, but X_val was not provided"),
        (dict(sample_weight_val="w"), "sample_weight_val is provided, but X_val and y_val"),
        (dict(X_val="X_val", y_val="y_val", validation_data="both"), "Received both"),
        (dict(validation_data="both", sample_weight_val="w"), "as its third element"),
    ],
)
def test_validation_rows_are_given_once_and_whole(wine, kwargs, message):
    X, X_val, y, y_val = wine
    values = {"X_val": X_val, "y_val": y_val, "w": np.ones(len(y_val)), "both": (X_val, y_val)}
    kwargs = {k: values[v] for k, v in kwargs.items()}
    reg = _reg()
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y, **kwargs)
    assert not hasattr(reg, "n_iter_")


def test_pipeline_transforms_x_val_with_transform_input(wine):
    # scikit-learn's own convention (1.6+): with metadata routing, the
    # pipeline passes X_val through the steps before the network, exactly
    # as transforming it by hand does.
    X, X_val, y, y_val = wine
    with sklearn.config_context(enable_metadata_routing=True):
        reg = _reg().set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("reg", reg)], transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
        scaler = StandardScaler().fit(X)
        by_hand = clone(reg).fit(scaler.transform(X), y, X_val=scaler.transform(X_val), y_val=y_val)
    _same_fit(pipe.named_steps["reg"], by_hand, scaler.transform(X))
    # Without transform_input, the raw rows reach the network: another fit.
    raw = clone(by_hand).fit(scaler.transform(X), y, X_val=X_val, y_val=y_val)
    assert not raw.history_.equals(by_hand.history_)
