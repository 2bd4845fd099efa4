"""
=====================================
Capacity: wider or deeper networks
=====================================

A network's capacity is the size and complexity of the patterns it can
learn. The course grows it two ways: wider layers (more units) or a deeper
stack (more layers). We compare its three models on the red wine data,

* ``width=16, depth=1``: one hidden layer of 16 units,
* ``width=32, depth=1``: wider,
* ``hidden_layer_sizes=(16, 16)``: deeper,

then let :class:`~sklearn.model_selection.GridSearchCV` choose width and
depth by cross-validation.

To keep the example fast, it departs from the course's defaults in two places:
a learning rate of 0.01, ten times the default, so that these small networks
get near their best within a few hundred epochs of 5 mini-batches each, and a
cap of 300 epochs (150 in the grid search) instead of 500.
"""

# %%
# Three networks, one validation set
# ----------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine
from kerasreg.plotting import TrainingHistoryDisplay

X, y = load_red_wine(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)

models = {
    "16 units": DenseRegressor(width=16, depth=1),
    "32 units (wider)": DenseRegressor(width=32, depth=1),
    "16-16 (deeper)": DenseRegressor(hidden_layer_sizes=(16, 16)),
}
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for (name, reg), ax in zip(models.items(), axes):
    reg.set_params(learning_rate=0.01, epochs=300, random_state=0)
    # Reaching the cap is reported below, not warned about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_train, y_train, validation_data=(X_valid, y_valid))
    mae = mean_absolute_error(y_valid, reg.predict(X_valid))
    capped = " (the cap)" if reg.n_iter_ == reg.epochs else ""
    print(f"{name:17s} val MAE {mae:.3f}, best epoch {reg.best_epoch_} of {reg.n_iter_}{capped}")
    TrainingHistoryDisplay.from_estimator(reg, ax=ax)
    ax.set_title(f"{name}: val MAE {mae:.3f}")
# Zoom past the first ten epochs' steep fall, where the three differ.
late = pd.concat([reg.history_.iloc[10:] for reg in models.values()])
axes[0].set_ylim(0.95 * late.min().min(), 1.05 * late.max().max())
fig.tight_layout()

# %%
# The wider and the deeper network both bring the training loss down further
# than the 16-unit one, while their validation loss does not follow: the gap
# between ``loss`` and ``val_loss`` widens, as extra capacity is spent partly
# on the training wines' noise. A
# small network may still creep forward at the cap (early stopping counts any
# drop of more than ``min_delta=0.001`` as progress); ``fit`` would warn with a
# ``ConvergenceWarning`` then, which this example counts rather than shows.
#
# The differences in validation MAE are a few hundredths of a quality point,
# on one split of 480 wines: too little to choose by. Cross-validation gives
# a spread to compare them against.

# %%
# Width × depth by cross-validation
# ---------------------------------
# Each candidate is fitted on two thirds of the training rows and scored on
# the third left out (``cv=3``). Inside each fit, early stopping watches its
# own random 20% (``validation_fraction=0.2``); a shorter ``patience=10`` and
# at most 150 epochs keep the 18 fits quick.
search = GridSearchCV(
    DenseRegressor(learning_rate=0.01, patience=10, epochs=150, random_state=0),
    {"width": [16, 64, 256], "depth": [1, 2]},
    cv=3,
    scoring="neg_mean_absolute_error",
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    search.fit(X_train, y_train)
n_capped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
n_fits = len(search.cv_results_["params"]) * search.n_splits_ + 1  # + the refit
print(f"{n_capped} of the {n_fits} fits reached 150 epochs before early stopping")

results = pd.DataFrame(search.cv_results_)
cv_mae = results.pivot(index="param_depth", columns="param_width", values="mean_test_score")
cv_mae = -cv_mae  # scikit-learn maximises scores, so MAE comes negated
cv_std = results.pivot(index="param_depth", columns="param_width", values="std_test_score")
print("CV MAE (quality points), rows depth, columns width:")
print(cv_mae.round(3))
best = search.best_params_
print(f"best: width {best['width']} x depth {best['depth']}, CV MAE {-search.best_score_:.3f}")
test_mae = mean_absolute_error(y_valid, search.predict(X_valid))
print(f"refitted on all training rows: validation MAE {test_mae:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
image = ax.imshow(cv_mae.to_numpy(), cmap="viridis_r")
ax.set_xticks(range(cv_mae.shape[1]), cv_mae.columns)
ax.set_yticks(range(cv_mae.shape[0]), cv_mae.index)
ax.set(xlabel="width (units per layer)", ylabel="depth (hidden layers)")
middle = (cv_mae.to_numpy().min() + cv_mae.to_numpy().max()) / 2
for (i, j), value in np.ndenumerate(cv_mae.to_numpy()):
    # Dark text on the bright (low-MAE) cells of viridis_r, light on the dark.
    color = "black" if value < middle else "white"
    ax.text(j, i, f"{value:.3f}\n± {cv_std.iloc[i, j]:.3f}", ha="center", va="center", color=color)
ax.set_title("3-fold CV MAE (quality points)")
fig.colorbar(image, ax=ax)
fig.tight_layout()
plt.show()

# %%
# The best cell wins by less than the spread across folds (the ± values), so
# on this data set width and depth matter less than the course's large
# network suggests: once a network has a hidden layer of a few dozen units,
# the wines' measurements have little more to give. Were the winner's margin
# large, the next step would be to extend the grid past the best value.
