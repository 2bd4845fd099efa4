"""DenseRegressor's behaviour as a user relies on it."""

import os
import pickle
import random
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from helpers import tiny
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine


def test_defaults_are_the_course_recipe():
    params = DenseRegressor().get_params()
    assert params["width"] == 512 and params["depth"] == 3
    assert params["optimizer"] == "adam" and params["loss"] == "mae"
    assert params["batch_size"] == 256 and params["early_stopping"] is True
    assert (params["patience"], params["min_delta"]) == (20, 0.001)
    assert params["restore_best_weights"] and params["scale_inputs"] and params["scale_target"]


def test_fitted_attributes(data):
    X, y = data
    reg = tiny().fit(X, y)
    assert reg.n_features_in_ == 4 and reg.n_outputs_ == 1
    assert list(reg.history_.columns) == ["loss", "val_loss"]
    assert reg.history_.index[0] == 1 and reg.history_.index.name == "epoch"
    assert len(reg.history_) == reg.n_iter_
    assert reg.history_["val_loss"].notna().all()
    assert 1 <= reg.best_epoch_ <= reg.n_iter_
    pred = reg.predict(X)
    assert pred.shape == (120,) and pred.dtype == np.float64
    assert reg.x_scaler_.data_min_.shape == (4,)


def test_keras_model_matches_predict(data):
    import keras

    X, y = data
    reg = tiny(batch_norm=True, dropout=0.1).fit(X, y)
    assert isinstance(reg.model_, keras.Model)
    scaled = reg.model_(reg.x_scaler_.transform(X).astype("float32"))
    np.testing.assert_allclose(
        reg.y_scaler_.inverse_transform(np.asarray(scaled)).ravel(), reg.predict(X), rtol=1e-4
    )


def test_two_dimensional_y(data):
    X, y = data
    Y = np.column_stack([y, -2 * y])
    reg = tiny().fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (120, 2)
    assert tiny().fit(X, y[:, None]).predict(X).shape == (120, 1)


def test_linear_unit_learns_a_line():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 10, size=(200, 1))
    y = 2.5 * X[:, 0] + 90
    reg = DenseRegressor(
        depth=0,
        epochs=300,
        learning_rate=0.05,
        batch_size=32,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    assert reg.model_.count_params() == 2
    np.testing.assert_allclose(reg.predict([[0.0], [4.0]]), [90, 100], atol=0.3)


def test_same_random_state_same_predictions(data):
    X, y = data
    a = tiny(dropout=0.2, batch_norm=True).fit(X, y).predict(X)
    b = tiny(dropout=0.2, batch_norm=True).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    c = tiny(dropout=0.2, batch_norm=True, random_state=None).fit(X, y).predict(X)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("random_state", [0, 7, np.int64(7), 2**32 - 1, True])
def test_an_int_random_state_seeds_the_run_as_check_random_state_does(random_state):
    # The run's seed of an int random_state is cached; it must be the one
    # that scikit-learn's check_random_state(random_state) draws.
    from sklearn.utils import check_random_state

    from kerasreg._fitting import _seed

    expected = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    for _ in range(2):  # the first call fills the cache, the second reads it
        seed, rng = _seed(DenseRegressor(random_state=random_state))
        assert seed == expected
        assert rng.randint(1000) == np.random.RandomState(expected).randint(1000)


_PREDICT_IN_SUBPROCESS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from sklearn.datasets import make_regression
from kerasreg import DenseRegressor
X, y = make_regression(n_samples=120, n_features=4, noise=0.5, random_state=0)
reg = DenseRegressor(width=8, depth=1, epochs=8, batch_size=16, random_state=0, dropout=0.2)
np.save(sys.argv[1], reg.fit(X, y).predict(X))
"""


def test_reproducible_across_processes(tmp_path):
    paths = [tmp_path / f"{i}.npy" for i in range(2)]
    for path in paths:
        subprocess.run([sys.executable, "-c", _PREDICT_IN_SUBPROCESS, str(path)], check=True)
    np.testing.assert_array_equal(np.load(paths[0]), np.load(paths[1]))


def test_fit_leaves_global_state_alone(data):
    import tensorflow as tf

    X, y = data
    py_state, np_state = random.getstate(), np.random.get_state()
    env = dict(os.environ)
    tf_seed = tf.random.get_global_generator().state.numpy().copy()
    tiny(dropout=0.3).fit(X, y)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert dict(os.environ) == env
    np.testing.assert_array_equal(tf.random.get_global_generator().state.numpy(), tf_seed)


def test_clone_pickle_joblib_round_trips(data, tmp_path):
    X, y = data
    reg = tiny(callbacks=[]).fit(X, y)
    expected = reg.predict(X)
    assert clone(reg).get_params() == reg.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), expected)
    joblib.dump(reg, tmp_path / "reg.joblib")
    loaded = joblib.load(tmp_path / "reg.joblib")
    np.testing.assert_array_equal(loaded.predict(X), expected)
    assert loaded.model_.count_params() == reg.model_.count_params()


def test_pipeline_cross_val_and_grid_search(data):
    X, y = data
    scores = cross_val_score(make_pipeline(StandardScaler(), tiny()), X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    grid = {"width": [4, 8], "depth": [1, 2], "batch_size": [16, 64]}
    search = GridSearchCV(tiny(), grid, cv=2).fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert len(search.cv_results_["params"]) == 8


def test_zero_sample_weight_removes_row(data):
    X, y = data
    w = np.ones(len(y))
    w[::3] = 0
    X_bad = X.copy()
    X_bad[::3] = 1e6  # would wreck the scaler if it counted
    weighted = tiny().fit(X_bad, y, sample_weight=w).predict(X)
    dropped = tiny().fit(X[w > 0], y[w > 0]).predict(X)
    np.testing.assert_array_equal(weighted, dropped)


def test_integer_weights_equal_repeated_rows():
    # The estimator check at rtol=1e-7 is below float32's resolution; here
    # the same equivalence under Adam, at a float32 tolerance.
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 6), rng.randint(0, 3, size=15).astype(float)
    sw = rng.randint(1, 4, size=15)
    params = dict(epochs=30, batch_size=64, early_stopping=False, shuffle=False)
    weighted = tiny(**params).fit(X, y, sample_weight=sw).predict(X)
    repeated = tiny(**params).fit(X.repeat(sw, axis=0), y.repeat(sw)).predict(X)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-5, atol=1e-6)
    unweighted = tiny(**params).fit(X, y).predict(X)
    assert np.abs(weighted - unweighted).max() > 1e-3


def test_validation_data_replaces_split(data):
    X, y = data
    reg = tiny().fit(X[:80], y[:80], validation_data=(X[80:], y[80:]))
    # All 80 rows trained: the scaler saw them all.
    np.testing.assert_array_equal(reg.x_scaler_.data_min_, X[:80].min(axis=0))
    reg = tiny(early_stopping=False).fit(X, y, validation_data=(X[80:], y[80:]))
    assert reg.history_["val_loss"].notna().all()
    reg = tiny(early_stopping=False).fit(X, y)
    assert reg.history_["val_loss"].isna().all()


def test_early_stopping_restores_best_epoch(data):
    X, y = data
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, random_state=0)
    reg = tiny(epochs=400, patience=5, learning_rate=0.05, width=32).fit(
        X_tr, y_tr, validation_data=(X_va, y_va)
    )
    assert reg.n_iter_ < 400
    assert reg.n_iter_ == reg.best_epoch_ + reg.patience
    # The final weights are the best epoch's: their validation MAE (in scaled
    # units) is the one recorded for that epoch.
    scaled_mae = np.mean(np.abs(reg.predict(X_va) - y_va)) * reg.y_scaler_.scale_[0]
    assert scaled_mae == pytest.approx(reg.history_.loc[reg.best_epoch_, "val_loss"], rel=1e-4)


def test_running_out_of_epochs_warns(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="epochs=3"):
        tiny(epochs=3, min_delta=0).fit(X, y)


def test_diverging_fit_restores_finite_weights(data):
    X, y = data
    # Plain SGD far above its stable step size: the loss grows each epoch
    # until it overflows.
    reg = tiny(depth=0, loss="mse", optimizer="sgd", learning_rate=1.0, scale_target=False)
    with pytest.warns(ConvergenceWarning, match="NaN or infinite"):
        reg.fit(X, y)
    assert reg.best_epoch_ == 1 and reg.n_iter_ > 1
    assert np.isfinite(reg.predict(X)).all()
    assert np.isfinite(reg.history_.to_numpy()).all()
    with pytest.raises(ValueError, match="Lower learning_rate"):
        tiny(depth=0, loss="mse", optimizer="sgd", learning_rate=1e30).fit(X, y)


def test_warm_start_continues(data):
    X, y = data
    reg = tiny(warm_start=True, early_stopping=False, epochs=5).fit(X, y)
    first_loss = reg.history_["loss"].iloc[-1]
    reg.fit(X, y)
    assert reg.n_iter_ == 10 and list(reg.history_.index) == list(range(1, 11))
    assert reg.history_["loss"].iloc[-1] < first_loss
    reg.set_params(width=16)
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.fit(X, y)


def test_keras_callbacks_are_called(data, tmp_path):
    import keras

    X, y = data
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, sorted(logs)))

    csv = tmp_path / "log.csv"
    ckpt = tmp_path / "best.weights.h5"
    callbacks = [
        Record(),
        keras.callbacks.CSVLogger(str(csv)),
        keras.callbacks.ModelCheckpoint(str(ckpt), save_weights_only=True),
        keras.callbacks.TensorBoard(str(tmp_path / "tb")),
    ]
    reg = tiny(callbacks=callbacks, early_stopping=False, epochs=4).fit(
        X, y, validation_data=(X, y)
    )
    assert seen == [(e, ["loss", "val_loss"]) for e in range(4)]
    logged = pd.read_csv(csv)
    np.testing.assert_allclose(logged["val_loss"], reg.history_["val_loss"], rtol=1e-6)
    assert ckpt.exists()
    assert (tmp_path / "tb" / "train").is_dir() and (tmp_path / "tb" / "validation").is_dir()


def test_reduce_lr_on_plateau_changes_the_step_size(data):
    import keras

    X, y = data
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", patience=0, factor=0.5, min_delta=10
    )
    reg = tiny(callbacks=[plateau], early_stopping=False, epochs=4, learning_rate=0.01)
    reg.fit(X, y)
    # With min_delta=10 every epoch after the first is a plateau: the rate
    # halves three times, and the engine reads it afresh each epoch.
    assert float(plateau.model.optimizer.learning_rate) == pytest.approx(0.01 / 8)


def test_weights_a_callback_sets_are_the_fitted_ones(data):
    # Keras's own EarlyStopping, with restore_best_weights, sets the model's
    # weights at the end of training: the fitted model has them.
    import keras

    X, y = data
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.get_weights()))

    restore = keras.callbacks.EarlyStopping(patience=100, restore_best_weights=True)
    reg = tiny(callbacks=[Record(), restore], early_stopping=False, epochs=12, learning_rate=0.05)
    # Validation targets of the opposite sign: the better the fit, the worse
    # the validation loss, so the best epoch is an early one.
    reg.fit(X[:60], y[:60], validation_data=(X[60:], -y[60:]))
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    assert best < len(seen) - 1, "the last epoch was the best: nothing to restore"
    for ours, theirs in zip(reg.model_.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(ours, theirs)


def test_callback_can_stop_training(data):
    import keras

    X, y = data

    class StopAtTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    reg = tiny(callbacks=[StopAtTwo()], epochs=50).fit(X, y)
    assert reg.n_iter_ == 2


def test_verbose_output(data, capsys):
    X, y = data
    tiny(verbose=2, epochs=3, early_stopping=False).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3 - loss:")
    tiny(verbose=1, epochs=3).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 3/3 [" in out and "val_loss" in out and out.endswith("\n")
    tiny(verbose=0, epochs=3).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda X, y: (np.where(X > 1, np.nan, X), y), "Input X contains NaN"),
        (lambda X, y: (np.where(X > 1, np.inf, X), y), "Input X contains infinity"),
        (lambda X, y: (X, np.where(y > 1, np.nan, y)), "Input y contains NaN"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X[:1], y[:1]), "Lower validation_fraction"),
    ],
)
def test_bad_input_is_named(data, bad, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        tiny().fit(*bad(X, y))


def test_failed_fit_keeps_previous_fit(data):
    X, y = data
    reg = tiny().fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError):
        reg.fit(np.full((10, 7), np.nan), np.zeros(10))
    with pytest.raises(ValueError):
        reg.fit(X[:1], y[:1])
    assert reg.n_features_in_ == 4
    np.testing.assert_array_equal(reg.predict(X), before)


def test_feature_count_and_names_checked_at_predict(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reg = tiny().fit(frame, y)
    assert list(reg.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="X has 3 features"):
        reg.predict(X[:, :3])
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        reg.predict(frame[["b", "a", "c", "d"]])
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        reg.predict(frame.rename(columns={"d": "e"}))


def test_non_numeric_columns_point_to_column_transformer(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(colour="red")
    with pytest.raises(ValueError, match=r"non-numeric columns: \['colour'\].*ColumnTransformer"):
        tiny().fit(frame, y)
    strings = X.astype(object)
    strings[0, 0] = "red"
    with pytest.raises(ValueError, match="ColumnTransformer"):
        tiny().fit(strings, y)


@pytest.mark.parametrize(
    "params, allowed",
    [
        ({"loss": "hinge"}, "'loss' parameter .* among .*'mae'.* Got 'hinge'"),
        ({"optimizer": "adagrad"}, "'optimizer' parameter .* among .*'adam'.* Got 'adagrad'"),
        ({"width": 0}, "range \\[1, inf\\)"),
        ({"hidden_layer_sizes": (8, -1)}, "tuple of positive ints"),
        ({"jit_compile": "xla"}, "'jit_compile' parameter .* {'auto'} or .*bool.* Got 'xla'"),
        # A bool is an int to Python; not a width, a depth or a batch size.
        ({"width": True}, "'width' parameter .* an int in the range \\[1, inf\\), not a bool"),
        ({"depth": True}, "'depth' parameter .* not a bool. Got True"),
        ({"batch_size": np.True_}, "'batch_size' parameter .* not a bool"),
        ({"learning_rate": True}, "'learning_rate' parameter .* not a bool"),
        ({"hidden_layer_sizes": (True,)}, "'hidden_layer_sizes' .* tuple of positive ints"),
    ],
)
def test_invalid_parameters(data, params, allowed):
    X, y = data
    with pytest.raises(ValueError, match=allowed):
        tiny(**params).fit(X, y)


def test_dates_and_durations_are_refused(data):
    X, y = data
    dates = np.datetime64("2024-01-01") + np.arange(len(X) * 4).reshape(len(X), 4)
    with pytest.raises(ValueError, match=r"X has dtype datetime64\[D\]: dates .* days since"):
        tiny().fit(dates, y)
    with pytest.raises(ValueError, match=r"y has dtype timedelta64"):
        tiny().fit(X, y.astype("timedelta64[s]"))
    reg = tiny().fit(X, y)
    with pytest.raises(ValueError, match=r"X has dtype datetime64"):
        reg.predict(dates)
    with pytest.raises(ValueError, match=r"X_val has dtype datetime64"):
        tiny().fit(X, y, X_val=dates, y_val=y)
    with pytest.raises(ValueError, match=r"X has dtype datetime64"):
        tiny().fit(list(dates), y)
    frame = pd.DataFrame(X).assign(when=dates[:, 0])
    with pytest.raises(ValueError, match=r"X has dtype datetime64.*: dates"):
        tiny().fit(frame, y)


def test_sample_weight_shape_is_checked(data):
    X, y = data
    with pytest.raises(ValueError, match=r"sample_weight of shape \(120,\)"):
        tiny().fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="non-negative"):
        tiny().fit(X, y, sample_weight=-np.ones(120))


def test_import_is_light():
    code = (
        "import sys, kerasreg; kerasreg.DenseRegressor(); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_seed_result_on_red_wine():
    # The course's workflow: 70/30 split, defaults, validate on the 30%.
    X, y = load_red_wine(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, random_state=0)
    reg = DenseRegressor(random_state=0).fit(X_tr, y_tr, validation_data=(X_va, y_va))
    mae = np.mean(np.abs(reg.predict(X_va) - y_va))
    assert mae <= 0.48
    assert reg.n_iter_ < reg.epochs


def test_interrupt_keeps_the_epochs_done(data):
    import keras

    X, y = data

    class CtrlCAtThirdEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    reg = tiny(epochs=50, callbacks=[CtrlCAtThirdEpoch()])
    with pytest.warns(UserWarning, match="interrupted after epoch 3"):
        reg.fit(X, y)
    assert reg.n_iter_ == 3 and len(reg.history_) == 3
    assert np.isfinite(reg.predict(X)).all()


def test_interrupt_before_any_epoch_leaves_estimator_as_it_was(data):
    import keras

    X, y = data
    reg = tiny().fit(X, y)
    before = reg.predict(X)

    class CtrlCAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise KeyboardInterrupt

    reg.set_params(callbacks=[CtrlCAtStart()], width=4)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)


@pytest.mark.parametrize("split", ["holdout", "X_val", "none"])
def test_fit_hands_the_engine_its_rows_laid_out_no_copy_made(data, monkeypatch, split):
    # The scaled rows are written where the program reads them: the engine
    # shares every array with its program rather than copying it.
    from kerasreg._engine import loop
    from kerasreg._engine.tensors import PaddedRows

    X, y = data
    laid_out, real = [], loop.padded

    def spy(arrays, size):
        laid_out.extend(isinstance(a, PaddedRows) and len(a.array) == size for a in arrays)
        return real(arrays, size)

    monkeypatch.setattr(loop, "padded", spy)
    kwargs = {"X_val": X[:20], "y_val": y[:20]} if split == "X_val" else {}
    tiny(early_stopping=split != "none").fit(X, y, **kwargs)
    # X, y, w of the training rows, then of the validation rows (without
    # them, the engine pads empty arrays of its own).
    assert laid_out[:3] == [True] * 3
    assert split == "none" or laid_out[3:] == [True] * 3
