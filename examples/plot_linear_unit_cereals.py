"""
=====================================
A single linear unit: cereal calories
=====================================

The course's first model is one neuron without an activation, ``y = w·x + b``,
fitted to predict a cereal's calories from its sugars. Its lesson draws the
line ``w = 2.5, b = 90`` as an illustration; here we fit it and see what the
data really give.

``DenseRegressor(depth=0)`` is that single linear unit. Two details of the
estimator matter for reading its weights:

* it min-max scales X and y to [0, 1] before training, so the network's
  weights are in scaled units and have to be converted back;
* it trains on the mean *absolute* error, so it fits a median line (least
  absolute deviations), not the least-squares line of
  :class:`~sklearn.linear_model.LinearRegression`. With ``loss="mse"`` it
  fits the same line as ``LinearRegression``.
"""

# %%
# The data
# --------
# 77 cereals; "Quaker Oatmeal" has no sugars value (NaN), so we drop it.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, QuantileRegressor

from kerasreg import DenseRegressor
from kerasreg.datasets import load_cereals
from kerasreg.plotting import TrainingHistoryDisplay

cereals = load_cereals(as_frame=True).frame
cereals = cereals.dropna(subset=["sugars", "fiber", "protein"])
y = cereals["calories"].to_numpy()
print(f"{len(cereals)} cereals, calories from {y.min():.0f} to {y.max():.0f}")

# %%
# From scaled weights back to calories
# ------------------------------------
# The network sees ``x_s = (x - x_min) / x_range`` and predicts
# ``y_s = (y - y_min) / y_range``, with the minima and ranges of the training
# rows (``x_scaler_`` and ``y_scaler_``). Substituting both into
# ``y_s = sum_j w_s[j] * x_s[j] + b_s`` and solving for ``y`` gives the line in
# original units::
#
#     w[j] = w_s[j] * y_range / x_range[j]
#     b    = y_min + y_range * (b_s - sum_j w_s[j] * x_min[j] / x_range[j])
#
# The scaled weights are the network's: ``model_.get_weights()`` returns the
# kernel and the bias of its one ``Dense`` layer.


def original_units(reg):
    """The (w, b) of a fitted depth-0 DenseRegressor, in X's and y's units."""
    kernel, bias = reg.model_.get_weights()
    w_s, b_s = kernel.ravel(), bias[0]
    x_min, x_range = reg.x_scaler_.data_min_, reg.x_scaler_.data_range_
    y_min, y_range = reg.y_scaler_.data_min_[0], reg.y_scaler_.data_range_[0]
    w = w_s * y_range / x_range
    b = y_min + y_range * (b_s - np.sum(w_s * x_min / x_range))
    return w, b


# %%
# Calories from sugars
# --------------------
# 76 rows fit in one batch of 256, so each epoch is one full-batch Adam step.
# With no validation data to watch, early stopping is off, and a learning
# rate of 0.01 (ten times the default) over 1000 epochs lets the line settle.
X = cereals[["sugars"]].to_numpy()
params = dict(depth=0, learning_rate=0.01, epochs=1000, early_stopping=False, random_state=0)
unit_mae = DenseRegressor(**params).fit(X, y)
unit_mse = DenseRegressor(loss="mse", **params).fit(X, y)
ols = LinearRegression().fit(X, y)
# The median line that MAE training aims at, solved exactly.
lad = QuantileRegressor(quantile=0.5, alpha=0).fit(X, y)

rows = {
    "DenseRegressor(depth=0), MAE": original_units(unit_mae),
    "QuantileRegressor (median line)": (lad.coef_, lad.intercept_),
    "DenseRegressor(depth=0), loss='mse'": original_units(unit_mse),
    "LinearRegression (least squares)": (ols.coef_, ols.intercept_),
}
lines = pd.DataFrame({name: {"w": w[0], "b": b} for name, (w, b) in rows.items()}).T
print(lines.round(3))

# %%
# The least-squares line is close to the lesson's ``w = 2.5, b = 90``; the
# network trained on MAE draws a flatter line through the median calories.
# Both are right for their loss: 29 of the 76 cereals have exactly 110
# calories whatever their sugars, and the median line follows them.
#
# The network's prediction is an affine function of X, so fitting
# ``LinearRegression`` to the network's own predictions recovers the same
# ``w`` and ``b``: a check of the conversion above.
check = LinearRegression().fit(X, unit_mae.predict(X))
print(f"check: w = {check.coef_[0]:.3f}, b = {check.intercept_:.3f}")

fig, (ax_line, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.5))
ax_line.scatter(X[:, 0], y, color="grey", alpha=0.6, label="cereals")
grid = np.linspace(X.min(), X.max(), 2)
for (name, (w, b)), style in zip(rows.items(), ["-", ":", "-", "--"]):
    ax_line.plot(grid, w[0] * grid + b, linestyle=style, label=f"{name}: w={w[0]:.2f}, b={b:.1f}")
ax_line.plot(grid, 2.5 * grid + 90, color="black", alpha=0.4, label="lesson: w=2.5, b=90")
ax_line.set(xlabel="sugars (g)", ylabel="calories", title="Calories from sugars")
ax_line.legend(fontsize="small")
TrainingHistoryDisplay.from_estimator(unit_mae, ax=ax_curve)
ax_curve.set_title("The MAE unit's training loss")
fig.tight_layout()

# %%
# Calories from sugars, fiber and protein
# ---------------------------------------
# The same unit with three inputs. The conversion works weight by weight,
# since each input has its own min and range.
features = ["sugars", "fiber", "protein"]
X3 = cereals[features].to_numpy()
unit3 = DenseRegressor(**params).fit(X3, y)
unit3_mse = DenseRegressor(loss="mse", **params).fit(X3, y)
ols3 = LinearRegression().fit(X3, y)
lad3 = QuantileRegressor(quantile=0.5, alpha=0).fit(X3, y)

rows3 = {
    "DenseRegressor(depth=0), MAE": original_units(unit3),
    "QuantileRegressor (median)": (lad3.coef_, lad3.intercept_),
    "DenseRegressor(depth=0), loss='mse'": original_units(unit3_mse),
    "LinearRegression (least squares)": (ols3.coef_, ols3.intercept_),
}
columns = [f"w_{f}" for f in features] + ["b"]
weights = pd.DataFrame([[*w, b] for w, b in rows3.values()], index=list(rows3), columns=columns)
print(weights.round(3))
for name, reg in [("MAE unit", unit3), ("LinearRegression", ols3)]:
    print(f"{name}: mean absolute error {np.mean(np.abs(reg.predict(X3) - y)):.2f} calories")

# %%
# Each gram of sugar adds calories and each gram of fiber removes some,
# whichever the loss; the two losses disagree most on protein, and on the
# intercept. The MAE unit has the lower mean absolute error on these rows,
# as it should: that is what it minimises.
fig, ax = plt.subplots(figsize=(7, 3.5))
weights.drop(columns="b").T.plot.bar(ax=ax, rot=0)
ax.set(ylabel="calories per gram", title="Weights in original units")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
