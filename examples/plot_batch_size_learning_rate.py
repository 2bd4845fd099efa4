"""
==================================
Batch size and learning rate
==================================

Stochastic gradient descent takes one step per mini-batch, of a size set by
the learning rate. The batch size therefore sets how many steps an epoch
takes (the red wine training rows make 35 batches of 32 but only 3 of 512),
and the learning rate how far each one goes; the two are tuned together.

We search both with :class:`~sklearn.model_selection.GridSearchCV` on a small
network, one hidden layer of 32 units (the course's 3 × 512 would take far
longer and the lesson is the same), with at most 80 epochs and
``patience=10`` to keep the example quick.
"""

# %%
# The grid
# --------
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine

X, y = load_red_wine(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)

batch_sizes = [32, 128, 512]
learning_rates = [0.001, 0.01, 0.1]
search = GridSearchCV(
    DenseRegressor(width=32, depth=1, epochs=80, patience=10, random_state=0),
    {"batch_size": batch_sizes, "learning_rate": learning_rates},
    cv=3,
    scoring="neg_mean_absolute_error",
)
# A fit that reaches 80 epochs warns; here that is expected, so count them.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    search.fit(X_train, y_train)
n_capped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
n_fits = len(search.cv_results_["params"]) * search.n_splits_ + 1  # + the refit
print(f"{n_capped} of the {n_fits} fits reached epoch 80 before early stopping")

results = pd.DataFrame(search.cv_results_)
cv_mae = -results.pivot(
    index="param_batch_size", columns="param_learning_rate", values="mean_test_score"
)
print("CV MAE (quality points), rows batch_size, columns learning_rate:")
print(cv_mae.round(3))
best = search.best_params_
print(
    f"best: batch_size {best['batch_size']}, learning_rate {best['learning_rate']}, "
    f"CV MAE {-search.best_score_:.3f}"
)
valid_mae = mean_absolute_error(y_valid, search.predict(X_valid))
print(f"validation MAE of the refitted best: {valid_mae:.3f}")

# %%
# CV MAE against the learning rate, one line per batch size; the bars span
# one standard deviation across the three folds.
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for batch_size, rows in results.groupby("param_batch_size"):
    ax.errorbar(
        rows["param_learning_rate"].astype(float),
        -rows["mean_test_score"],
        yerr=rows["std_test_score"],
        marker="o",
        capsize=3,
        label=f"batch_size={batch_size}",
    )
ax.set(xscale="log", xlabel="learning rate", ylabel="CV MAE (quality points)")
ax.set_title("80 epochs at most, patience 10")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Within a fixed budget of epochs, large batches with a small learning rate
# take too few, too short steps: at ``batch_size=512, learning_rate=0.001``
# the network has barely started. The learning curves of that learning rate
# at the three batch sizes show it: per epoch, the smaller the batch, the
# faster the validation loss falls.
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for batch_size in batch_sizes:
    reg = DenseRegressor(
        width=32, depth=1, epochs=80, patience=10, batch_size=batch_size, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_train, y_train, validation_data=(X_valid, y_valid))
    ax.plot(reg.history_.index, reg.history_["val_loss"], label=f"batch_size={batch_size}")
ax.set(xlabel="epoch", ylabel="val_loss: MAE (scaled target units)", yscale="log")
ax.set_title("learning_rate=0.001")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# A larger learning rate makes up for fewer steps, up to the point where the
# steps overshoot; then the loss curve turns noisy and, further still, the
# training diverges (``fit`` then stops, restores the weights of the best
# finite epoch and warns). Smaller batches also cost more time per epoch,
# since each step is a separate update: compare ``mean_fit_time`` in
# ``search.cv_results_``.
