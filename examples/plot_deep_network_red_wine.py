"""
=====================================
A deep network for red wine quality
=====================================

The course's recipe for the red wine data: three hidden ``Dense`` ReLU layers
of 512 units, Adam, mean absolute error, batches of 256, and early stopping
(``min_delta=0.001, patience=20``) that restores the best weights. These are
``DenseRegressor``'s defaults, so the whole network is one line.

As in the course, 30% of the wines are held out and passed as
``validation_data``: the network's ``val_loss`` is measured on them every
epoch, and early stopping watches it.
"""

# %%
# Fit on 70%, validate on 30%
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine
from kerasreg.plotting import TrainingHistoryDisplay

X, y = load_red_wine(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)

reg = DenseRegressor(random_state=0)  # width=512, depth=3
reg.fit(X_train, y_train, validation_data=(X_valid, y_valid))

mae = mean_absolute_error(y_valid, reg.predict(X_valid))
print(f"validation MAE: {mae:.3f} quality points")
print(f"stopped after epoch {reg.n_iter_}; best epoch {reg.best_epoch_} (weights restored)")

# %%
# Learning curves
# ---------------
# ``history_`` holds ``loss`` and ``val_loss`` per epoch. Both are MAE on the
# *scaled* quality: y was min-max scaled to [0, 1] on the training rows, whose
# quality runs from 3 to 8, so one scaled unit is 5 quality points.
y_range = reg.y_scaler_.data_range_[0]
best_val = reg.history_.loc[reg.best_epoch_, "val_loss"]
print(f"val_loss at the best epoch: {best_val:.4f} scaled = {best_val * y_range:.3f} points")

display = TrainingHistoryDisplay.from_estimator(reg)
display.ax_.set_title("Red wine: 3 x 512 ReLU, Adam, MAE")
plt.show()

# %%
# The training loss keeps falling while the validation loss levels off: past
# the best epoch the network learns the training wines rather than wine.
# Early stopping waited ``patience=20`` epochs for an improvement of more than
# ``min_delta=0.001`` that never came, stopped, and put back the weights of the
# best epoch, so ``predict`` answers with those.
#
# Is a network this size needed for that error?
# :ref:`sphx_glr_auto_examples_plot_capacity.py` compares smaller ones. For a
# baseline, always predicting the training wines' median quality gives:
baseline = mean_absolute_error(y_valid, np.full_like(y_valid, np.median(y_train)))
print(f"median baseline MAE: {baseline:.3f} quality points")
