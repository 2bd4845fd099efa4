"""The fenced scikit-learn APIs: constraints, their errors, the callback API."""

import pytest

from kerasreg import DenseRegressor
from kerasreg._compat import sklearn as sk_compat


def test_parameter_error_reads_scikit_learns_wording():
    # The command line turns this into "argument --width: ...": if
    # scikit-learn's wording changes, this fails rather than the message.
    with pytest.raises(sk_compat.InvalidParameterError) as error:
        DenseRegressor(width=0).fit([[0.0]], [0.0])
    name, rest = sk_compat.parameter_error(str(error.value))
    assert name == "width" and rest.startswith("must be")


def test_bools_fail_numeric_constraints_but_verbose():
    with pytest.raises(sk_compat.InvalidParameterError, match="not a bool"):
        sk_compat.validate_params(DenseRegressor(width=True), lambda v: isinstance(v, bool))
    sk_compat.validate_params(DenseRegressor(verbose=True), lambda v: isinstance(v, bool))


def test_callback_state_names_match_the_callback_api():
    pytest.importorskip("sklearn.callback")
    from sklearn.callback import CallbackSupportMixin

    assert issubclass(DenseRegressor, CallbackSupportMixin)
    assert hasattr(DenseRegressor, "_init_callback_context")
