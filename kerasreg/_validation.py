"""Input checks: numeric data, no dates, sample weights, with errors that name the fix."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

_NON_NUMERIC_HINT = (
    "DenseRegressor needs numeric input: encode non-numeric columns first, e.g. "
    "with sklearn.compose.ColumnTransformer and OneHotEncoder in a Pipeline."
)


def non_numeric_columns(frame):
    """The names of a DataFrame's columns whose dtype is not numeric."""
    return [str(c) for c, t in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]


def check_numeric_frame(X, name):
    """Name a DataFrame's non-numeric columns before NumPy's error does not."""
    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0:
            raise ValueError(
                f"Expected {name} with at least one feature column. "
                f"Received: a DataFrame of shape {X.shape}"
            )
        bad = non_numeric_columns(X)
        if bad:
            raise ValueError(f"{name} has non-numeric columns: {bad}. {_NON_NUMERIC_HINT}")


def check_not_time(a, name):
    """Refuse dates and durations, which NumPy would pass on as integer time steps."""
    if isinstance(a, pd.DataFrame):
        dtypes = a.dtypes
    elif isinstance(a, (list, tuple)):
        dtypes = [np.asarray(a).dtype]
    else:
        dtypes = [getattr(a, "dtype", None)]
    for dtype in dtypes:
        if getattr(dtype, "kind", None) in ("M", "m"):
            raise ValueError(
                f"{name} has dtype {dtype}: dates and durations are not numbers the network "
                "can scale. Convert them to numeric features first, e.g. days since a "
                "reference date, or the year, month and weekday as columns."
            )


def validate(estimator, X, y="no_validation", *, reset, name="X"):
    """`validate_data` with a pointer to the fix for non-numeric input."""
    check_not_time(X, name)
    check_numeric_frame(X, name)
    kwargs = dict(reset=reset, dtype=[np.float64, np.float32])
    if not (isinstance(y, str) and y == "no_validation"):
        check_not_time(y, "y" if name == "X" else "y_val")
        kwargs.update(multi_output=True, y_numeric=True)
    try:
        return validate_data(estimator, X, y, **kwargs)
    except (ValueError, TypeError) as e:
        msg = str(e)
        if "could not convert" in msg or "argument must be" in msg:
            raise type(e)(f"{msg}. {_NON_NUMERIC_HINT}") from e
        raise


def is_bool(value):
    return isinstance(value, (bool, np.bool_))


def check_sample_weight(sample_weight, n_samples):
    sw = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight")
    if sw.shape != (n_samples,):
        raise ValueError(
            f"Expected sample_weight of shape ({n_samples},), one weight per row of X. "
            f"Received: sample_weight.shape={sw.shape}"
        )
    if (sw < 0).any():
        raise ValueError("Expected non-negative sample_weight. Received negative weights.")
    if not sw.any():
        raise ValueError("Expected at least one positive sample_weight. Received all zeros.")
    return sw


def training_rows(estimator, X, y, sample_weight, reset):
    """Validated X, y (2-D float64), sample weights (rows of weight 0 dropped), y.ndim."""
    X, y = validate(estimator, X, y, reset=reset)
    y_ndim = y.ndim
    try:  # scikit-learn leaves y of numeric strings as strings
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Expected numeric y. Received: {e}") from e
    if not np.isfinite(y).all():  # scikit-learn checks object y for NaN only
        raise ValueError("Input y contains infinity or a value too large for float64.")
    sw = np.ones(len(X)) if sample_weight is None else check_sample_weight(sample_weight, len(X))
    if sample_weight is not None:
        keep = sw > 0
        X, y, sw = X[keep], y[keep], sw[keep]
    return X, y, sw, y_ndim
