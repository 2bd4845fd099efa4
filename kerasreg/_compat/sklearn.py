"""scikit-learn's private and experimental API, fenced in."""

import re

# Why: parameter constraints as scikit-learn's own estimators declare them
# (Interval, StrOptions; checked by validate_parameter_constraints, raising
# InvalidParameterError, a ValueError). scikit-learn has no public home for
# them yet. Fallback: none; pyproject.toml bounds scikit-learn to the
# releases tested, and tests/compat/test_sklearn.py is the canary.
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

__all__ = [
    "CALLBACK_STATE", "CallbackSupportMixin", "Interval", "InvalidParameterError",
    "StrOptions", "begin_fit", "end_fit", "epoch_begin", "epoch_end", "has_callbacks",
    "parameter_error", "validate_params", "with_callbacks",
]  # fmt: skip


def validate_params(estimator, is_bool):
    """Check the estimator's parameters against its ``_parameter_constraints``.

    What ``BaseEstimator._validate_params`` (private) does, plus one rule:
    a bool is an int to Python and so to scikit-learn's numeric constraints;
    here a bool fails them (``verbose=True`` is an answer, as in
    scikit-learn; a width of True is not).
    """
    name = type(estimator).__name__
    params = estimator.get_params(deep=False)
    for param, (constraint, *_) in estimator._parameter_constraints.items():
        value = params[param]
        if isinstance(constraint, Interval) and param != "verbose" and is_bool(value):
            raise InvalidParameterError(
                f"The '{param}' parameter of {name} must be {constraint}, not a "
                f"bool. Got {value!r} instead."
            )
    validate_parameter_constraints(estimator._parameter_constraints, params, caller_name=name)


_PARAMETER_ERROR = re.compile(r"The '(\w+)' parameter of (\w+) (.*)", re.S)


def parameter_error(message):
    """``(parameter, rest of the message)`` of an InvalidParameterError's message, or None.

    Why: the command line names the option rather than the parameter, and
    scikit-learn's wording is the only place the parameter is named.
    Fallback: None, and the message is shown as it is.
    """
    match = _PARAMETER_ERROR.match(message)
    return None if match is None else (match.group(1), match.group(3))


# --------------------------------------------------------------------------- #
# The callback API (sklearn.callback, experimental since 1.9)
# --------------------------------------------------------------------------- #

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9 has no callback API; verbose still works.

    class CallbackSupportMixin:
        pass

    def with_callbacks(method):
        return method


#: What the callback API keeps on the estimator during fit (a failed fit keeps it).
CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def begin_fit(estimator, X, y, max_subtasks):
    """The fit's callback context, its begin hook called; None without the callback API."""
    if not hasattr(estimator, "_init_callback_context"):
        return None
    context = estimator._init_callback_context(max_subtasks=max_subtasks)
    context.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
    return context


def has_callbacks(estimator):
    """Whether scikit-learn callbacks are set on the estimator (``set_callbacks``)."""
    return bool(getattr(estimator, "_skl_callbacks", None))


def end_fit(context, estimator, X, y):
    """Call the fit's end hook."""
    if context is not None:
        context.call_on_fit_task_end(estimator=estimator, X=X, y=y, reconstruction_attributes=dict)


def epoch_begin(context, estimator, X, y):
    """Begin an epoch as a subtask of the fit; returns its context."""
    task = context.subcontext(task_name="epoch")
    task.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
    return task


def epoch_end(task, estimator, X, y, logs, attributes):
    """End an epoch's subtask; True when a callback asks to stop.

    ``attributes`` maps nothing to the attributes that make a copy of the
    estimator predict as if fitting had stopped here.
    """
    return task.call_on_fit_task_end(
        estimator=estimator, X=X, y=y, metadata=dict(logs or {}),
        reconstruction_attributes=attributes,
    )  # fmt: skip
