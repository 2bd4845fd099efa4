"""Every scikit-learn estimator check, on a small fast configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasreg import DenseRegressor


def _small():
    return DenseRegressor(
        width=16,
        depth=1,
        epochs=60,
        batch_size=32,
        learning_rate=0.01,
        early_stopping=False,
        random_state=0,
    )


def _expected_failures(estimator):
    return {
        # The check compares fits on weighted and on repeated rows to
        # rtol=1e-7, below the resolution of float32 (1.2e-7), in which the
        # network trains: the two sum the same gradients in another order and
        # differ in the last bit of some weights (seen: 1.6e-7 relative after
        # 10 epochs of plain SGD). tests/test_estimator.py checks the same
        # equivalence at a float32 tolerance, with Adam and longer training.
        "check_sample_weight_equivalence_on_dense_data": (
            "float32 training cannot agree to rtol=1e-7; tested at float32 "
            "tolerance in test_estimator.py"
        ),
    }


@parametrize_with_checks([_small()], expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
