"""partial_fit: one epoch per call, the optimizer's state carried, as fit would have trained."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression

from kerasreg import DenseRegressor
from kerasreg._engine import tuned

_CASES = {
    "relu": dict(width=8, depth=2),
    "dropout-batch-norm": dict(width=8, depth=2, dropout=0.2, batch_norm=True),
    "sgd-xla": dict(width=8, depth=1, optimizer="sgd", batch_size=8, jit_compile=True),
    # XLA runs widths 5 and 3 padded to 8 and 4: Adam's state is carried unpadded.
    "adam-xla-padded": dict(hidden_layer_sizes=(5, 3), batch_norm=True, jit_compile=True),
}


@pytest.mark.parametrize("params", list(_CASES.values()), ids=list(_CASES))
def test_k_calls_train_as_fit_for_k_epochs(data, params):
    # The same scalers (the first call's rows are all the rows), initial
    # weights, shuffles, dropout masks and update-rule state: bit for bit.
    X, y = data
    common = dict(random_state=0, **params)
    fitted = DenseRegressor(epochs=4, early_stopping=False, **common).fit(X, y)
    partial = DenseRegressor(**common)
    for _ in range(4):
        partial.partial_fit(X, y)
    np.testing.assert_array_equal(partial.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(partial.history_["loss"], fitted.history_["loss"])
    assert partial.n_iter_ == 4 and partial.best_epoch_ == 4
    assert partial.history_["val_loss"].isna().all()


def test_the_optimizer_state_is_carried(data):
    # Adam restarted at every call (its moments and bias correction) would
    # train differently from one continued run.
    X, y = data
    carried = DenseRegressor(width=8, depth=1, random_state=0)
    carried.partial_fit(X, y).partial_fit(X, y)
    restarted = DenseRegressor(width=8, depth=1, random_state=0).partial_fit(X, y)
    restarted.__dict__.pop("_partial")  # what a fresh optimizer would be
    restarted.partial_fit(X, y)
    assert not np.array_equal(carried.predict(X), restarted.predict(X))


def test_blocks_of_rows_and_a_clone(data):
    X, y = data
    reg = DenseRegressor(width=8, depth=1, batch_size=16, random_state=1)
    for block in np.array_split(np.arange(len(X)), 4):
        reg.partial_fit(X[block], y[block])
    assert reg.n_iter_ == 4
    # The scalers are the first block's.
    np.testing.assert_array_equal(reg.x_scaler_.data_min_, X[:30].min(axis=0))
    again = clone(reg)
    assert not hasattr(again, "n_iter_")
    for block in np.array_split(np.arange(len(X)), 4):
        again.partial_fit(X[block], y[block])
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))


def test_partial_fit_after_fit_goes_on_from_its_weights(data):
    X, y = data
    reg = DenseRegressor(width=8, depth=1, epochs=3, random_state=0).fit(X, y)
    before = reg.predict(X)
    n = reg.n_iter_
    reg.partial_fit(X, y)
    assert reg.n_iter_ == n + 1 and len(reg.history_) == n + 1
    assert not np.array_equal(reg.predict(X), before)


def test_a_failed_call_leaves_the_estimator_as_it_was(data):
    X, y = data
    reg = DenseRegressor(width=8, depth=1, random_state=0).partial_fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X[:, :2], y)
    with pytest.raises(ValueError, match="output"):
        reg.partial_fit(X, np.column_stack([y, y]))
    assert reg.n_iter_ == 1
    np.testing.assert_array_equal(reg.predict(X), before)


def test_no_convergence_warning_and_ctrl_c_stops_a_loop(data):
    import warnings

    from kerasreg._engine import tuned

    X, y = data
    reg = DenseRegressor(width=8, depth=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one epoch asked for is not a failure to converge
        reg.partial_fit(X, y)
    before = reg.predict(X)

    def interrupt(inputs, outputs):
        raise KeyboardInterrupt

    with tuned(after_call=interrupt), pytest.raises(KeyboardInterrupt):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 1
    np.testing.assert_array_equal(reg.predict(X), before)


def test_callbacks_count_epochs_across_calls_and_a_new_optimizer_starts_afresh(data):
    import keras

    X, y = data
    seen = []
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: seen.append(epoch) or lr)
    reg = DenseRegressor(width=8, depth=1, random_state=0, callbacks=[schedule])
    for _ in range(3):
        reg.partial_fit(X, y)
    assert seen == [0, 1, 2]
    reg.set_params(optimizer="rmsprop", callbacks=None).partial_fit(X, y)
    assert np.isfinite(reg.predict(X)).all() and reg.n_iter_ == 4


def test_blocks_that_switch_between_xla_and_a_plain_graph():
    # 400 rows in batches of 16 run under XLA, width 5 padded to 8; 48 rows
    # (3 steps) as a plain graph at width 5: Adam's state goes from one to
    # the other in the network's own shapes. (A partial_fit call counts as
    # one epoch: fewer steps than "auto" compiles for unless told.)
    X, y = make_regression(n_samples=448, n_features=4, noise=0.5, random_state=0)
    est = DenseRegressor(width=5, depth=1, batch_size=16, random_state=0)
    for rows in (slice(0, 400), slice(400, 448), slice(0, 400)):
        with tuned(xla_min_fit_steps=1):
            est.partial_fit(X[rows], y[rows])
        slots = est._partial["engine"]["slots"]
        assert [[a.shape for a in slot] for slot in slots] == [
            [(X.shape[1], 5), (5,), (5, 1), (1,)]
        ] * 2
    assert np.isfinite(est.predict(X)).all() and est.n_iter_ == 3
