"""alpha, the L2 penalty, against its closed form: a linear unit on MSE is ridge regression."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.preprocessing import MinMaxScaler

from kerasreg import DenseRegressor


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.1])
def test_a_linear_unit_with_alpha_on_mse_is_ridge(alpha):
    # Full-batch gradient descent on mean((X_s w + b - y_s)^2) + alpha * |w|^2,
    # in the scaled units, converges to Ridge's solution with a penalty of
    # alpha * n on the summed squares (Ridge leaves the intercept unpenalized,
    # as alpha leaves the bias).
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 5, size=(200, 3))
    y = X @ [1.5, -2.0, 0.5] + 0.3 * rng.randn(200)
    reg = DenseRegressor(
        depth=0, loss="mse", alpha=alpha, optimizer="sgd", learning_rate=0.3, batch_size=200,
        epochs=3000, early_stopping=False, shuffle=False, random_state=0,
    ).fit(X, y)  # fmt: skip
    X_s = MinMaxScaler().fit_transform(X)
    y_s = MinMaxScaler().fit_transform(y[:, None]).ravel()
    ridge = Ridge(alpha=alpha * len(X)).fit(X_s, y_s)
    kernel, bias = reg.model_.get_weights()
    np.testing.assert_allclose(kernel.ravel(), ridge.coef_, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(bias, [ridge.intercept_], rtol=2e-4, atol=2e-5)
    if alpha:
        # A real penalty: the weights shrink against the unpenalized fit.
        unpenalized = Ridge(alpha=0.0).fit(X_s, y_s).coef_
        assert np.abs(kernel).sum() < np.abs(unpenalized).sum() * 0.99


def test_alpha_is_validated():
    with pytest.raises(ValueError, match="alpha"):
        DenseRegressor(alpha=-1.0).fit([[0.0], [1.0]], [0.0, 1.0])
