"""Random inputs at DenseRegressor.fit and .predict.

Every input either works, and then the predictions are finite float64 of the
right shape, or raises ValueError / TypeError whose message names the problem.
Nothing else: no TensorFlow error, no OverflowError, no NaN or infinite
prediction, no crash, no hang.

The values of an array come from a NumPy generator seeded by Hypothesis; its
shape, dtype, magnitude and the NaN or infinity put into it are Hypothesis's
own choices, so that failing examples shrink to small, readable ones.

The tests at the end pin each bug the fuzzing found with a minimal example.

Run ``pytest tests/test_fuzz.py --hypothesis-show-statistics`` to see how many
examples ran and what happened to them.
"""

import os
import re
import warnings
from dataclasses import dataclass

import helpers
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from kerasreg import DenseRegressor

# A failure message must name what is wrong: the argument, or the property.
_NAMES_ARGUMENT = re.compile(r"\bX\b|\by\b|\bX_val\b|\by_val\b|sample_weight")
_NAMES_PROBLEM = re.compile(
    r"feature|sample|NaN|infinity|numeric|convert|complex|dimension|\bdim\b|shape"
    r"|\dD array|string|column|validation_fraction",
    re.IGNORECASE,
)

# 800 examples: ~25 s on two shared cores (each new (n_features, n_outputs)
# pair costs a trace). Derandomized, the same examples each run, so that the
# suite does not fail at random; KERASREG_FUZZ_RANDOM=1 (with, say,
# KERASREG_FUZZ_EXAMPLES=5000) explores further with fresh examples.
MAX_EXAMPLES = int(os.environ.get("KERASREG_FUZZ_EXAMPLES", 800))
RANDOM = bool(os.environ.get("KERASREG_FUZZ_RANDOM"))

# Each input has valid choices and odd ones; a case draws a few "odd" aspects
# (none in a third of the cases, so that many fits get to predict, and
# failures shrink towards valid inputs).
ODD = ["rows", "columns", "X", "X value", "X magnitude", "y", "y value", "y magnitude",
       "y length", "sample_weight"]  # fmt: skip
ROWS = ([3, 5, 17, 40], [0, 1, 2])
MAGNITUDES = ([1.0, 1e-3], [1e30, 1e300, 1e-300, 1e308])
SPECIALS = ([None], [np.nan, np.inf, -np.inf])
X_KINDS = (
    ["float64", "float64", "float32", "int", "bool", "object", "str-numbers", "frame", "list"],
    ["object-mixed", "str-words", "complex", "1d", "3d", "frame"],
)
Y_KINDS = (
    ["float", "float", "int", "bool", "2d", "object", "series", "list"],
    ["str-numbers", "str-words", "complex", "3d", "no-columns"],
)
SW_KINDS = (
    [None, None, "ones", "random", "some-zero", "int"],
    ["wrong-length", "2d", "negative", "zeros", "nan", "huge", "tiny", "scalar", "str"],
)
PREDICT_KINDS = (
    ["same", "fresh", "one-row"],
    ["fresh", "one-row", "wrong-features", "1d", "3d", "no-rows", "nan", "str-numbers"],
)
FRAME_COLUMNS = (
    ["float", "float", "int", "bool", "object-num"],
    ["str", "category", "Int64", "datetime", "float"],
)


@dataclass
class Case:
    X: object
    y: object
    sample_weight: object
    X_pred: object
    early_stopping: bool

    def __repr__(self):
        def show(a):
            if isinstance(a, pd.DataFrame):
                return f"DataFrame{a.shape} dtypes={list(map(str, a.dtypes))}\n{a.head(3)}"
            arr = np.asarray(a, dtype=object) if isinstance(a, list) else a
            if isinstance(arr, np.ndarray):
                head = np.array2string(arr.ravel()[:6])
                return f"{type(a).__name__} {arr.dtype} {arr.shape}: {head}"
            return repr(a)

        parts = [f"{k}={show(getattr(self, k))}" for k in ("X", "y", "sample_weight", "X_pred")]
        return "Case(" + ", ".join(parts) + f", early_stopping={self.early_stopping})"


def _values(rng, shape, magnitude):
    # Uniform in [-m, m]: finite even for m = 1e308.
    return rng.uniform(-1.0, 1.0, size=shape) * magnitude


def _inject(a, rng, special):
    if special is not None and a.size:
        a = a.copy()
        a.flat[rng.randint(a.size)] = special
    return a


def _frame(draw, rng, n, p, magnitude, special, odd):
    columns = {}
    for j in range(p):
        kind = draw(st.sampled_from(FRAME_COLUMNS[odd]))
        v = _values(rng, n, magnitude)
        if kind == "float":
            col = _inject(v, rng, special)
        elif kind == "int":
            col = rng.randint(-100, 100, size=n)
        elif kind == "bool":
            col = v > 0
        elif kind == "str":
            col = np.array(["red", "green"], dtype=object)[rng.randint(2, size=n)]
        elif kind == "category":
            col = pd.Categorical(np.array(["a", "b"])[rng.randint(2, size=n)])
        elif kind == "Int64":
            col = pd.array(
                [None if rng.rand() < 0.2 else int(i) for i in rng.randint(9, size=n)],
                dtype="Int64",
            )
        elif kind == "datetime":
            col = pd.date_range("2020-01-01", periods=n)
        else:
            col = v.astype(object)
        columns[f"c{j}"] = col
    frame = pd.DataFrame(columns, index=range(n))
    names = draw(st.sampled_from(["str", "int", "mixed"] if odd else ["str", "int"]))
    if names == "int":
        frame.columns = range(p)
    elif names == "mixed" and p >= 2:
        frame.columns = [j if j % 2 else f"c{j}" for j in range(p)]
    return frame


def _make_X(draw, rng, n, p, kind, magnitude, special, odd):
    v = _values(rng, (n, p), magnitude)
    if kind == "float64":
        return _inject(v, rng, special)
    if kind == "float32":
        with np.errstate(over="ignore"):
            return _inject(v, rng, special).astype(np.float32)
    if kind == "int":
        return rng.randint(-1000, 1000, size=(n, p)) * draw(st.sampled_from([1, 10**15]))
    if kind == "bool":
        return v > 0
    if kind == "object":
        return _inject(v, rng, special).astype(object)
    if kind == "object-mixed":
        a = v.astype(object)
        if a.size:
            a.flat[rng.randint(a.size)] = draw(st.sampled_from([None, "abc", "1.5", 1j, True]))
        return a
    if kind == "str-numbers":
        return _inject(v, rng, special).astype(str)
    if kind == "str-words":
        return np.where(v > 0, "yes", "no")
    if kind == "complex":
        return v + 1j * draw(st.sampled_from([0.0, 1.0]))
    if kind == "1d":
        return _inject(v[:, 0] if p else np.zeros(n), rng, special)
    if kind == "3d":
        return v.reshape(n, p, 1)
    if kind == "frame":
        return _frame(draw, rng, n, p, magnitude, special, odd)
    return _inject(v, rng, special).tolist()


def _make_y(draw, rng, n, kind, magnitude, special):
    v = _values(rng, n, magnitude)
    if kind == "float":
        return _inject(v, rng, special)
    if kind == "int":
        return rng.randint(-50, 50, size=n)
    if kind == "bool":
        return v > 0
    if kind == "2d":
        k = draw(st.integers(1, 2))
        return _inject(_values(rng, (n, k), magnitude), rng, special)
    if kind == "str-numbers":
        return v.astype(str)
    if kind == "str-words":
        return np.where(v > 0, "high", "low")
    if kind == "object":
        return _inject(v, rng, special).astype(object)
    if kind == "complex":
        return v + 1j
    if kind == "3d":
        return v.reshape(n, 1, 1)
    if kind == "no-columns":
        return np.zeros((n, 0))
    if kind == "series":
        return pd.Series(_inject(v, rng, special), name="target")
    return _inject(v, rng, special).tolist()


def _make_sample_weight(draw, rng, n, kind):
    if kind is None:
        return None
    if kind == "ones":
        return np.ones(n)
    if kind == "random":
        return rng.uniform(0.1, 3.0, size=n)
    if kind == "some-zero":
        w = np.ones(n)
        w[: n // 2] = 0
        return w
    if kind == "int":
        return rng.randint(1, 4, size=n)
    if kind == "wrong-length":
        return np.ones(draw(st.sampled_from([0, 1, n + 1, max(n - 1, 0)])))
    if kind == "2d":
        return np.ones((n, 1))
    if kind == "negative":
        return -np.ones(n)
    if kind == "zeros":
        return np.zeros(n)
    if kind == "nan":
        return _inject(np.ones(n), rng, np.nan)
    if kind == "huge":
        return np.full(n, draw(st.sampled_from([1e30, 1e300])))
    if kind == "tiny":
        return np.full(n, draw(st.sampled_from([1e-30, 1e-300])))
    if kind == "scalar":
        return 2.0
    return np.array(["1"] * n)


def _make_X_pred(draw, rng, X, p, kind, odd):
    if kind == "same":
        return X
    m = draw(st.integers(1, 5))
    magnitude = draw(st.sampled_from(MAGNITUDES[odd]))
    if kind == "fresh":
        v = _values(rng, (m, p), magnitude)
        return pd.DataFrame(v, columns=X.columns) if isinstance(X, pd.DataFrame) else v
    if kind == "wrong-features":
        return _values(rng, (m, draw(st.sampled_from([0, p + 1, max(p - 1, 0)]))), 1.0)
    if kind == "1d":
        return _values(rng, m, 1.0)
    if kind == "3d":
        return _values(rng, (m, p, 1), 1.0)
    if kind == "no-rows":
        return np.zeros((0, p))
    if kind == "nan":
        return _inject(_values(rng, (m, p), 1.0), rng, draw(st.sampled_from(SPECIALS[1])))
    if kind == "one-row":
        return _values(rng, (1, p), magnitude)
    return _values(rng, (m, p), 1.0).astype(str)


@st.composite
def cases(draw):
    n_odd = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))
    odd = set(draw(st.lists(st.sampled_from(ODD), min_size=n_odd, max_size=n_odd, unique=True)))

    def pick(aspect, choices):
        return draw(st.sampled_from(choices[aspect in odd]))

    n = pick("rows", ROWS)
    p = 0 if "columns" in odd else draw(st.integers(1, 6))
    rng = np.random.RandomState(draw(st.integers(0, 2**32 - 1)))
    X = _make_X(draw, rng, n, p, pick("X", X_KINDS), pick("X magnitude", MAGNITUDES),
                pick("X value", SPECIALS), "X" in odd)  # fmt: skip
    n_y = draw(st.sampled_from([n + 1, max(n - 1, 0)])) if "y length" in odd else n
    y = _make_y(draw, rng, n_y, pick("y", Y_KINDS), pick("y magnitude", MAGNITUDES),
                pick("y value", SPECIALS))  # fmt: skip
    sample_weight = _make_sample_weight(draw, rng, n, pick("sample_weight", SW_KINDS))
    odd_predict = draw(st.booleans())
    X_pred = _make_X_pred(draw, rng, X, p, draw(st.sampled_from(PREDICT_KINDS[odd_predict])),
                          odd_predict)  # fmt: skip
    return Case(X, y, sample_weight, X_pred, draw(st.booleans()))


def _check_error(case, error, where):
    msg = str(error)
    assert msg.strip(), f"{where} raised {type(error).__name__} with an empty message"
    assert _NAMES_ARGUMENT.search(msg) or _NAMES_PROBLEM.search(msg), (
        f"{where} raised {type(error).__name__} whose message names no argument or problem: {msg!r}"
    )
    event(f"{where} raised {type(error).__name__}")


def _check_predictions(case, reg, X, pred, where):
    n = len(X)
    expected = (n,) if np.ndim(case.y) == 1 else (n, np.shape(case.y)[1])
    assert isinstance(pred, np.ndarray) and pred.dtype == np.float64, where
    assert pred.shape == expected, f"{where}: shape {pred.shape}, expected {expected}"
    assert np.isfinite(pred).all(), f"{where} returned non-finite predictions: {pred}"


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not RANDOM,
    # Failing examples are printed; keep no example database in the repository.
    database=None,
)
@given(case=cases())
def test_fit_and_predict_either_work_or_name_the_problem(case):
    note(repr(case))
    reg = DenseRegressor(
        width=4, depth=1, epochs=2, batch_size=8, random_state=0,
        early_stopping=case.early_stopping,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _fit_and_predict(case, reg)
        finally:
            for w in caught:
                if issubclass(w.category, RuntimeWarning):
                    event(f"RuntimeWarning: {str(w.message)[:60]}")


def _fit_and_predict(case, reg):
    try:
        reg.fit(case.X, case.y, sample_weight=case.sample_weight)
    except (ValueError, TypeError) as e:
        _check_error(case, e, "fit")
        return
    event("fit worked")
    _check_predictions(case, reg, case.X, reg.predict(case.X), "predict(X of fit)")
    try:
        pred = reg.predict(case.X_pred)
    except (ValueError, TypeError) as e:
        _check_error(case, e, "predict")
    else:
        event("predict worked")
        _check_predictions(case, reg, case.X_pred, pred, "predict(new X)")


# The bugs this fuzzing found, one minimal example each (all fixed).


def tiny(**params):
    # Two epochs of 4 units: these tests are about the input, not the training.
    return helpers.tiny(**{"width": 4, "epochs": 2, "batch_size": 8, **params})


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    return rng.rand(20, 3), rng.rand(20)


def test_y_of_numeric_strings_works_like_X_of_numeric_strings(data):
    # Until 267bba0, y of numeric strings reached `y * scaler.scale_` as
    # strings: "ufunc 'multiply' did not contain a loop" (a TypeError).
    X, y = data
    reg = tiny(early_stopping=False).fit(X.astype(str), y)
    pred = reg.predict(X)
    np.testing.assert_array_equal(tiny(early_stopping=False).fit(X, y.astype(str)).predict(X), pred)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_infinity_in_object_y_is_named(data, early_stopping):
    X, y = data
    y = y.astype(object)
    y[0] = np.inf
    # Until 0c13d41: "Input X contains infinity" (from the y scaler) or, when
    # the row landed in the validation split, "diverged ... Lower learning_rate".
    with pytest.raises(ValueError, match="Input y contains infinity"):
        tiny(early_stopping=early_stopping).fit(X, y)


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_scaling_all_sample_weights_changes_nothing(data, factor):
    # Weighted means are invariant to a common factor. Until 0c13d41, 1e300
    # became inf in float32 ("diverged ... Lower learning_rate") and 1e-300
    # became 0 (the network silently did not train).
    X, y = data
    expected = tiny(early_stopping=False).fit(X, y).predict(X)
    got = tiny(early_stopping=False).fit(X, y, sample_weight=np.full(20, factor)).predict(X)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def _fit_or_named_error(reg, X, y, name, **fit_params):
    """Fit: either predictions are finite or the ValueError names `name`."""
    try:
        pred = reg.fit(X, y, **fit_params).predict(X)
    except ValueError as e:
        assert "diverged" not in str(e) and re.search(rf"\b{name}\b", str(e)), str(e)
    else:
        assert np.isfinite(pred).all(), pred


@pytest.mark.parametrize("where", ["validation_data", "split"])
def test_validation_rows_beyond_float32_after_scaling(data, where):
    X, y = data
    if where == "validation_data":
        _fit_or_named_error(tiny(), X, y, "y_val", validation_data=(X, y * 1e300))
    else:
        # Two rows: one to train on (its y scaler has range 0, so scale 1)
        # and one to validate on, 1e300 away.
        _fit_or_named_error(tiny(), X[:2], np.array([0.0, 1e300]), "y")


@pytest.mark.parametrize("what", ["X", "y"])
def test_values_beyond_float32_are_scaled_into_range(data, what):
    # Min-max scaling brings any finite values into [0, 1]. From 267bba0 to
    # 0c13d41, _scale cast to float32 first (1e300 -> inf, inf * scale -> NaN)
    # and fit said "diverged ... Lower learning_rate".
    X, y = data
    if what == "X":
        _fit_or_named_error(tiny(), X * 1e300, y, "X")
    else:
        _fit_or_named_error(tiny(), X, y * 1e300, "y")


def test_unscaled_X_beyond_float32(data):
    X, y = data
    # Before 267bba0 fit succeeded (finite history, NaN kernel: relu hid the
    # infinities in the forward pass) and predict returned NaN; until 0c13d41
    # it said "diverged ... Lower learning_rate".
    _fit_or_named_error(tiny(scale_inputs=False), X * 1e300, y, "X")


@pytest.mark.parametrize("limit", [1.5e308, 8e307], ids=["range-overflows", "range-subnormal"])
def test_y_near_the_float64_limits(data, limit):
    # y's max - min is inf (the y scaler's scale_ becomes 0: predictions
    # -inf), or just below (scale_ is subnormal: unscaling overflows).
    X, y = data
    y = np.where(y > 0.5, limit, -limit)
    try:
        pred = tiny(early_stopping=False).fit(X, y).predict(X)
    except ValueError as e:
        assert re.search(r"\by\b", str(e))
    else:
        assert np.isfinite(pred).all(), pred


def test_predict_far_outside_the_training_range(data):
    X, y = data
    reg = tiny(early_stopping=False).fit(X * 1e-10, y)
    try:
        pred = reg.predict(X * 1e300)
    except ValueError as e:
        assert re.search(r"\bX\b", str(e))
    else:
        assert np.isfinite(pred).all(), pred


def test_frame_without_columns_is_named(data):
    _, y = data
    with pytest.raises(ValueError, match="feature"):
        tiny().fit(pd.DataFrame(index=range(20)), y)


def test_a_fit_that_works_predicts_its_own_rows(data):
    # Found by KERASREG_FUZZ_RANDOM=1 after 0c13d41: y's range (8e307) does not
    # overflow, so fit works, but the barely trained network's scaled
    # predictions lie outside [0, 1] and predict(X) of the very rows it was fitted
    # on raised "Predictions overflow float64 in y's units". fit now rejects
    # such a y, naming it.
    X, y = data
    y = np.where(np.random.RandomState(1).rand(20) > 0.5, 4e307, -4e307)
    try:
        reg = tiny(early_stopping=False).fit(X, y)
    except ValueError as e:
        assert re.search(r"\by\b", str(e)), str(e)
    else:
        assert np.isfinite(reg.predict(X)).all()
