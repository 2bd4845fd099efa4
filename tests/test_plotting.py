"""TrainingHistoryDisplay draws what the estimator recorded."""

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from kerasreg import DenseRegressor
from kerasreg.plotting import TrainingHistoryDisplay

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(data):
    return DenseRegressor(width=8, depth=1, epochs=10, random_state=0).fit(*data)


def test_draws_loss_and_val_loss_per_epoch(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    assert set(display.lines_) == {"loss", "val_loss"}
    epochs = np.arange(1, fitted.n_iter_ + 1)
    for name, line in display.lines_.items():
        np.testing.assert_array_equal(line.get_xdata(), epochs)
        np.testing.assert_allclose(line.get_ydata(), fitted.history_[name].to_numpy())
        assert line.get_label() == name
        assert line.axes is display.ax_
    assert display.figure_ is display.ax_.figure


def test_marks_the_best_epoch(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    x = display.best_epoch_line_.get_xdata()
    assert list(x) == [fitted.best_epoch_, fitted.best_epoch_]
    assert display.best_epoch_line_.get_linestyle() == "--"
    assert str(fitted.best_epoch_) in display.best_epoch_line_.get_label()
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert display.best_epoch_line_.get_label() in legend


def test_best_epoch_kw_overrides_the_defaults(fitted):
    display = TrainingHistoryDisplay.from_estimator(
        fitted, best_epoch_kw={"ls": ":", "c": "red", "label": "kept"}
    )
    line = display.best_epoch_line_
    assert (line.get_linestyle(), line.get_color(), line.get_label()) == (":", "red", "kept")


def test_axis_labels_give_the_units(data):
    X, y = data
    scaled = DenseRegressor(width=8, depth=1, epochs=2, random_state=0).fit(X, y)
    raw = DenseRegressor(
        width=8, depth=1, epochs=2, loss="mse", scale_target=False, random_state=0
    ).fit(X, y)
    scaled_ax = TrainingHistoryDisplay.from_estimator(scaled).ax_
    assert scaled_ax.get_xlabel() == "epoch"
    assert scaled_ax.get_ylabel() == "MAE loss (scaled target units)"
    raw_ax = TrainingHistoryDisplay.from_estimator(raw).ax_
    assert raw_ax.get_ylabel() == "MSE loss (squared target units)"


def test_log_scale(fitted):
    assert TrainingHistoryDisplay.from_estimator(fitted).ax_.get_yscale() == "linear"
    display = TrainingHistoryDisplay.from_estimator(fitted, log_scale=True)
    assert display.ax_.get_yscale() == "log"


def test_ax_is_honoured(fitted):
    fig, (left, right) = plt.subplots(1, 2)
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=right)
    assert display.ax_ is right and display.figure_ is fig
    assert len(right.get_lines()) == 3 and not left.get_lines()


def test_no_val_loss_line_without_validation_data(data):
    reg = DenseRegressor(width=8, depth=1, epochs=3, early_stopping=False, random_state=0)
    reg.fit(*data)
    assert reg.history_["val_loss"].isna().all()
    display = TrainingHistoryDisplay.from_estimator(reg)
    assert list(display.lines_) == ["loss"]


def test_from_a_history_dict_or_frame():
    history = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.6, 0.4, 0.45]}
    for h in (history, pd.DataFrame(history)):
        display = TrainingHistoryDisplay(history=h).plot()
        np.testing.assert_array_equal(display.lines_["val_loss"].get_xdata(), [1, 2, 3])
        assert display.best_epoch_line_ is None
        assert display.ax_.get_ylabel() == "loss"


def test_plot_returns_self_and_keeps_parameters():
    display = TrainingHistoryDisplay(history={"loss": [1.0]}, best_epoch=1, n_iter=1)
    assert display.plot() is display
    assert display.best_epoch_line_.get_label() == "best epoch 1 of 1"


@pytest.mark.parametrize(
    "history, error, match",
    [
        ({"val_loss": [1.0]}, ValueError, "Expected history with a 'loss' column"),
        ([0.1, 0.2], TypeError, "Expected history to be a DataFrame"),
    ],
)
def test_bad_history(history, error, match):
    with pytest.raises(error, match=match):
        TrainingHistoryDisplay(history=history).plot()


def test_unfitted_estimator_raises():
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(DenseRegressor())


def test_estimator_without_history_raises(data):
    from sklearn.linear_model import LinearRegression

    with pytest.raises(TypeError, match="history_"):
        TrainingHistoryDisplay.from_estimator(LinearRegression().fit(*data))


def test_missing_matplotlib_gives_the_install_hint(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    hint = r"TrainingHistoryDisplay needs matplotlib: pip install 'kerasreg\[plots\]'"
    with pytest.raises(ImportError, match=hint):
        TrainingHistoryDisplay.from_estimator(fitted)
    with pytest.raises(ImportError, match=hint):
        TrainingHistoryDisplay(history={"loss": [1.0]}).plot()
