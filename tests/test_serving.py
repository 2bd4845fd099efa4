"""DenseRegressor.to_keras(): the scaling folded into the network, checked against predict."""

import keras
import numpy as np
import pytest

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine


@pytest.fixture(scope="module")
def wine():
    X, y = load_red_wine(return_X_y=True)
    return np.asarray(X, dtype=np.float64)[:400], np.asarray(y, dtype=np.float64)[:400]


_CASES = {
    "linear-unit": dict(depth=0),
    "relu-2x8": dict(width=8, depth=2),
    "batch-norm-dropout": dict(width=8, depth=2, batch_norm=True, dropout=0.2),
    "unscaled-inputs": dict(width=8, depth=1, scale_inputs=False),
    "unscaled-target": dict(width=8, depth=1, scale_target=False, learning_rate=0.01),
}


def _close(model_out, reg, X):
    expected = reg.predict(X).reshape(len(X), -1)
    out = keras.ops.convert_to_numpy(model_out).reshape(expected.shape)
    # float32 arithmetic on raw features: relative to the target's size.
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("params", list(_CASES.values()), ids=list(_CASES))
def test_serving_model_predicts_as_predict_does(wine, params):
    X, y = wine
    reg = DenseRegressor(epochs=5, random_state=0, **params).fit(X, y)
    model = reg.to_keras()
    _close(model.predict(X.astype(np.float32), verbose=0), reg, X)
    # model_ works on scaled units: the serving model is a different function.
    if reg.x_scaler_ is not None:
        assert not np.allclose(
            keras.ops.convert_to_numpy(reg.model_(X[:5].astype(np.float32))), reg.predict(X[:5])
        )


def test_two_outputs(wine):
    X, y = wine
    Y = np.column_stack([y, 10 * X[:, 0]])
    reg = DenseRegressor(width=8, depth=1, epochs=5, random_state=0).fit(X, Y)
    _close(reg.to_keras().predict(X.astype(np.float32), verbose=0), reg, X)


def test_saved_and_loaded_with_keras(wine, tmp_path):
    X, y = wine
    reg = DenseRegressor(width=8, depth=2, epochs=5, random_state=0).fit(X, y)
    reg.to_keras().save(tmp_path / "wine.keras")
    loaded = keras.models.load_model(tmp_path / "wine.keras")
    _close(loaded.predict(X.astype(np.float32), verbose=0), reg, X)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a TensorFlow SavedModel")
def test_exported_for_serving(wine, tmp_path):
    import tensorflow as tf

    X, y = wine
    reg = DenseRegressor(width=8, depth=2, epochs=5, random_state=0).fit(X, y)
    reg.to_keras().export(str(tmp_path / "served"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "served"))
    _close(served.serve(tf.constant(X, tf.float32)), reg, X)


def test_to_keras_needs_a_fitted_estimator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DenseRegressor().to_keras()
