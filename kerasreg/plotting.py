"""Plots of a fitted network's training, in the style of scikit-learn's displays.

matplotlib is imported when a plot is drawn, not with this module, so that
kerasreg works without it; ``pip install 'kerasreg[plots]'`` adds it.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

_MATPLOTLIB_HINT = "TrainingHistoryDisplay needs matplotlib: pip install 'kerasreg[plots]'"

# How each loss of DenseRegressor is named on an axis, and how its units
# relate to the target's.
_LOSS_LABELS = {
    "mae": ("MAE loss", "{}"),
    "mse": ("MSE loss", "squared {}"),
    "huber": ("Huber loss", "{}"),
}


def _import_pyplot():
    try:
        # matplotlib first: a test or a user may block the package while
        # matplotlib.pyplot is still cached from an earlier import.
        import matplotlib  # noqa: F401
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(_MATPLOTLIB_HINT) from e
    return plt


def _loss_label(estimator):
    """The y-axis label for an estimator's history: loss name and units."""
    name, units = _LOSS_LABELS.get(getattr(estimator, "loss", None), ("loss", "{}"))
    scaled = getattr(estimator, "y_scaler_", None) is not None
    target = "scaled target units" if scaled else "target units"
    return f"{name} ({units.format(target)})"


class TrainingHistoryDisplay:
    """Learning curves of a network: loss and val_loss per epoch.

    Draws the training loss and, when there is one, the validation loss of
    every epoch, and marks the best epoch with a vertical dashed line. Build
    it from a fitted :class:`~kerasreg.DenseRegressor` with
    :meth:`from_estimator`, or from any history table (a Keras
    ``History.history`` dict works too) and call :meth:`plot`.

    All parameters are stored as attributes.

    Parameters
    ----------
    history : pandas.DataFrame or dict of sequences
        A ``loss`` column and optionally a ``val_loss`` column, one row per
        epoch, in order: row ``k`` (counting from 1) is epoch ``k``, as in
        :attr:`DenseRegressor.history_ <kerasreg.DenseRegressor>`.
        ``val_loss`` is drawn only when it has a finite value.

    best_epoch : int, default=None
        The epoch to mark, counting from 1. None marks nothing.

    n_iter : int, default=None
        The number of epochs run, shown in the best epoch's label
        ("best epoch 12 of 32"). None leaves it out.

    loss_name : str, default=None
        Label of the y axis, ideally with the loss's units. None writes
        ``"loss"``.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The drawn curves by history column: ``"loss"``, and ``"val_loss"``
        when it was drawn.

    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at ``best_epoch``; None when ``best_epoch`` is None.

    ax_ : matplotlib Axes
        Axes with the learning curves.

    figure_ : matplotlib Figure
        Figure containing the learning curves.

    See Also
    --------
    TrainingHistoryDisplay.from_estimator : Plot a fitted estimator's
        learning curves.
    sklearn.model_selection.LearningCurveDisplay : Score against the number
        of training rows, rather than against epochs.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from kerasreg.plotting import TrainingHistoryDisplay
    >>> history = {"loss": [0.30, 0.12, 0.09, 0.08], "val_loss": [0.20, 0.11, 0.10, 0.12]}
    >>> display = TrainingHistoryDisplay(history=history, best_epoch=3, n_iter=4)
    >>> ax = Figure().subplots()  # no pyplot window, so this runs anywhere
    >>> display = display.plot(ax=ax)
    >>> sorted(display.lines_)
    ['loss', 'val_loss']
    >>> display.best_epoch_line_.get_label()
    'best epoch 3 of 4'
    """

    def __init__(self, *, history, best_epoch=None, n_iter=None, loss_name=None):
        self.history = history
        self.best_epoch = best_epoch
        self.n_iter = n_iter
        self.loss_name = loss_name

    def _curves(self):
        """The columns to draw, as float arrays, checked."""
        try:
            names = list(self.history.keys())
        except AttributeError:
            raise TypeError(
                "Expected history to be a DataFrame or a dict of sequences with a "
                f"'loss' key. Received: history of type {type(self.history).__name__}"
            ) from None
        if "loss" not in names:
            raise ValueError(f"Expected history with a 'loss' column. Received: columns {names}")
        curves = {}
        for name in ("loss", "val_loss"):
            if name in names:
                values = np.asarray(self.history[name], dtype=np.float64)
                # An all-NaN val_loss means "no validation data"; no line then.
                if name == "loss" or np.isfinite(values).any():
                    curves[name] = values
        return curves

    def plot(self, ax=None, *, log_scale=False, best_epoch_kw=None):
        """Draw the learning curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. None creates a new figure and axes.

        log_scale : bool, default=False
            Use a logarithmic y axis, which shows the slow late epochs of a
            loss that first falls by orders of magnitude.

        best_epoch_kw : dict, default=None
            Keyword arguments for ``ax.axvline`` that draws the best epoch's
            line, overriding the defaults (black, dashed); ``label`` replaces
            its legend text.

        Returns
        -------
        display : TrainingHistoryDisplay
            The object, with its ``lines_``, ``best_epoch_line_``, ``ax_``
            and ``figure_`` set.
        """
        plt = _import_pyplot()
        from matplotlib.cbook import normalize_kwargs
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        curves = self._curves()
        if ax is None:
            _, ax = plt.subplots()

        self.lines_ = {}
        for name, values in curves.items():
            epochs = np.arange(1, len(values) + 1)
            (self.lines_[name],) = ax.plot(epochs, values, label=name)

        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            label = f"best epoch {self.best_epoch}"
            if self.n_iter is not None:
                label += f" of {self.n_iter}"
            defaults = {"color": "black", "linestyle": "--", "alpha": 0.7, "label": label}
            # Normalised so that a user's ``ls`` replaces the default ``linestyle``.
            kwargs = {**defaults, **normalize_kwargs(best_epoch_kw or {}, Line2D)}
            self.best_epoch_line_ = ax.axvline(self.best_epoch, **kwargs)

        if log_scale:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="epoch", ylabel=self.loss_name or "loss")
        ax.legend()

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False, best_epoch_kw=None):
        """Plot a fitted estimator's learning curves.

        Uses the estimator's ``history_`` (loss and val_loss per epoch),
        ``best_epoch_`` and ``n_iter_``. The y axis names the loss and its
        units: those of the min-max scaled target ("scaled target units",
        the target's training range being 1) when the estimator scaled y.

        Parameters
        ----------
        estimator : DenseRegressor
            A fitted estimator. For a :class:`~sklearn.pipeline.Pipeline`,
            pass its last step, ``pipe[-1]``.

        ax : matplotlib Axes, default=None
            Axes to draw on. None creates a new figure and axes.

        log_scale : bool, default=False
            Use a logarithmic y axis.

        best_epoch_kw : dict, default=None
            Keyword arguments for the best epoch's line; see :meth:`plot`.

        Returns
        -------
        display : TrainingHistoryDisplay
            The drawn display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> from kerasreg import DenseRegressor
        >>> from kerasreg.datasets import load_red_wine
        >>> from kerasreg.plotting import TrainingHistoryDisplay
        >>> X, y = load_red_wine(return_X_y=True)
        >>> reg = DenseRegressor(width=16, depth=1, epochs=15, random_state=0).fit(X, y)
        >>> ax = Figure().subplots()
        >>> display = TrainingHistoryDisplay.from_estimator(reg, ax=ax)
        >>> display.ax_.get_ylabel()
        'MAE loss (scaled target units)'
        >>> len(display.lines_["val_loss"].get_xdata())
        15
        """
        _import_pyplot()
        check_is_fitted(estimator)
        if not hasattr(estimator, "history_"):
            raise TypeError(
                "Expected a fitted estimator with a history_ attribute, such as "
                "DenseRegressor; for a Pipeline pass its last step, pipe[-1]. "
                f"Received: estimator of type {type(estimator).__name__}"
            )
        display = cls(
            history=estimator.history_,
            best_epoch=getattr(estimator, "best_epoch_", None),
            n_iter=getattr(estimator, "n_iter_", None),
            loss_name=_loss_label(estimator),
        )
        return display.plot(ax=ax, log_scale=log_scale, best_epoch_kw=best_epoch_kw)
