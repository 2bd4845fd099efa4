"""scikit-learn's callback API (sklearn.callback, new in 1.9) down to each epoch."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from kerasreg import DenseRegressor

callback = pytest.importorskip("sklearn.callback")


class Record:
    """A FitCallback that records every task it sees, propagated to sub-estimators."""

    max_propagation_depth = None

    def __init__(self):
        self.ended = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, metadata=None):
        pass

    def on_fit_task_end(self, estimator, context, *, metadata=None, fitted_estimator=None):
        self.ended.append((context.estimator_name, context.task_name, metadata, fitted_estimator))


class RecordPropagated(Record, callback.AutoPropagatedCallback):
    pass


def _small():
    return DenseRegressor(width=4, depth=1, epochs=3, early_stopping=False, random_state=0)


def test_each_epoch_is_a_task_with_its_losses(data):
    X, y = data
    rec = Record()
    reg = _small().set_callbacks(rec).fit(X, y)
    epochs = [e for e in rec.ended if e[1] == "epoch"]
    assert len(epochs) == 3
    assert [e[2]["loss"] for e in epochs] == list(reg.history_["loss"])
    # A fitted estimator as it was after each epoch: the last one is the final fit.
    np.testing.assert_array_equal(epochs[-1][3].predict(X), reg.predict(X))
    assert not np.array_equal(epochs[0][3].predict(X), reg.predict(X))
    assert rec.ended[-1][1] == "fit"
    assert not hasattr(reg, "_callback_fit_ctx")  # torn down after fit


def test_callback_can_stop_training(data):
    X, y = data

    class StopAfterFirst(Record):
        def on_fit_task_end(self, estimator, context, *, metadata=None):
            return context.task_name == "epoch"

    reg = _small().set_callbacks(StopAfterFirst()).set_params(epochs=50).fit(X, y)
    assert reg.n_iter_ == 1


def test_grid_search_propagates_down_to_epochs(data):
    X, y = data
    rec = RecordPropagated()
    grid = {"width": [2, 4]}
    GridSearchCV(_small(), grid, cv=2).set_callbacks(rec).fit(X, y)
    epochs = [e for e in rec.ended if e[0] == "DenseRegressor" and e[1] == "epoch"]
    # 2 candidates x 2 folds + the refit, 3 epochs each.
    assert len(epochs) == (2 * 2 + 1) * 3


def test_progress_bar_in_grid_search(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    search = GridSearchCV(_small(), {"width": [2, 4]}, cv=2)
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None)).fit(X, y)
    assert hasattr(search, "best_params_")
