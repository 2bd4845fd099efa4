"""Early stopping against the reference: keras.callbacks.EarlyStopping on the same losses."""

import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_reference import keras_stop

from kerasreg import DenseRegressor
from kerasreg._engine.early_stopping import update

_update = tf.function(update)


def kerasreg_stop(losses, min_delta, patience):
    """(epochs run, best epoch) by kerasreg's rule, run alone."""
    # The engine's starting state.
    best, wait, best_epoch = tf.constant(math.inf), tf.constant(0), tf.constant(0)
    delta, patience = tf.constant(min_delta, tf.float64), tf.constant(patience)
    for epoch, loss in enumerate(losses, start=1):
        best, wait, best_epoch, _, stop = _update(
            best, wait, best_epoch, tf.constant(epoch), tf.constant(loss, tf.float32),
            delta, patience,
        )  # fmt: skip
        if stop:
            return epoch, int(best_epoch)
    return len(losses), int(best_epoch)


# Losses on a grid of min_delta's multiples (ties at exactly min_delta, up to
# float32's rounding), plateaus (repeats), arbitrary values and NaN.
_DELTAS = [0.0, 0.001, 0.02, 0.25]


@st.composite
def _sequences(draw):
    min_delta = draw(st.sampled_from(_DELTAS) | st.floats(0, 0.1))
    step = min_delta or 0.001
    grid = st.integers(0, 40).map(lambda i: np.float32(0.5 - i * step))
    anything = st.floats(0, 1, width=32)
    value = st.one_of(grid, grid, anything, st.just(np.float32(math.nan)))
    values = draw(st.lists(value, min_size=1, max_size=40))
    # Plateaus: each value repeated 1-3 times.
    repeats = draw(st.lists(st.integers(1, 3), min_size=len(values), max_size=len(values)))
    losses = [v for v, r in zip(values, repeats) for _ in range(r)]
    return losses, min_delta, draw(st.integers(0, 6))


@settings(max_examples=300, deadline=None)
@given(_sequences())
def test_rule_stops_where_keras_early_stopping_stops(case):
    losses, min_delta, patience = case
    assert kerasreg_stop(losses, min_delta, patience) == keras_stop(losses, min_delta, patience)


@pytest.mark.parametrize(
    "losses, min_delta, patience, expected",
    [
        # An epoch worse than the best by less than min_delta does not improve.
        ([0.5, 0.5005, 0.5005, 0.5005], 0.001, 2, (3, 1)),
        # Nor does one better by less than min_delta.
        ([0.5, 0.4995, 0.4995, 0.4], 0.001, 2, (3, 1)),
        # patience=0 stops at the first epoch that does not improve, never at the first.
        ([0.5, 0.4, 0.45], 0.0, 0, (3, 2)),
        ([0.5, 0.5], 0.0, 0, (2, 1)),
        # Exactly min_delta below the best (0.5 - 0.25, exact in binary) is no improvement.
        ([0.5, 0.25, 0.1], 0.25, 1, (2, 1)),
        ([0.5, 0.2, 0.1], 0.25, 1, (3, 2)),
        # Keras compares in float32 (keras.ops.less on Python floats): 0.5 +
        # (0.5 - 1e-9) is below 1.0 in float64, but rounds to 1.0.
        ([1.0, 0.5], 0.5 - 1e-9, 1, (2, 1)),
        # NaN never improves.
        ([0.5, math.nan, math.nan], 0.0, 1, (2, 1)),
    ],
)
def test_rule_on_known_sequences(losses, min_delta, patience, expected):
    assert keras_stop(losses, min_delta, patience) == expected
    assert kerasreg_stop(losses, min_delta, patience) == expected


@pytest.mark.parametrize("min_delta, patience", [(0.001, 5), (0.0, 3), (0.01, 2)])
def test_fit_stops_where_keras_stops_on_its_own_losses(wine_split, min_delta, patience):
    # A real fit's val_loss replayed through Keras's EarlyStopping: the same
    # number of epochs run and the same best epoch.
    X_train, X_val, y_train, y_val = wine_split
    reg = DenseRegressor(
        width=16, depth=1, batch_size=64, epochs=300, min_delta=min_delta, patience=patience,
        random_state=0,
    ).fit(X_train, y_train, validation_data=(X_val, y_val))  # fmt: skip
    assert reg.n_iter_ < 300
    losses = reg.history_["val_loss"].to_numpy()
    assert (reg.n_iter_, reg.best_epoch_) == keras_stop(losses, min_delta, patience)


def test_fit_without_early_stopping_reports_keras_best_epoch(wine_split):
    X_train, X_val, y_train, y_val = wine_split
    reg = DenseRegressor(
        width=8, depth=1, batch_size=128, epochs=40, early_stopping=False, random_state=0
    ).fit(X_train, y_train, validation_data=(X_val, y_val))
    assert reg.n_iter_ == 40
    losses = reg.history_["val_loss"].to_numpy()
    # Keras with patience beyond the run: it never stops, and names the best epoch.
    assert reg.best_epoch_ == keras_stop(losses, reg.min_delta, 1000)[1]
