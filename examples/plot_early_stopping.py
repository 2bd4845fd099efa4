"""
=====================================
Early stopping: when to stop training
=====================================

The course's 3 × 512 network for red wine, trained twice on the same 70/30
split: once with early stopping (the default: ``min_delta=0.001,
patience=20``, best weights restored) and once without, for a fixed 250
epochs. Without early stopping the network ends with the weights of its
last epoch, whatever the validation loss did meanwhile.
"""

# %%
# Two fits of the same network
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine
from kerasreg.plotting import TrainingHistoryDisplay

X, y = load_red_wine(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)

stopped = DenseRegressor(random_state=0)
stopped.fit(X_train, y_train, validation_data=(X_valid, y_valid))
full = DenseRegressor(early_stopping=False, epochs=250, random_state=0)
full.fit(X_train, y_train, validation_data=(X_valid, y_valid))

# Validation MAE in quality points.
for name, reg in [("early stopping", stopped), ("250 epochs", full)]:
    mae = mean_absolute_error(y_valid, reg.predict(X_valid))
    print(f"{name:15s} val MAE {mae:.3f}, {reg.n_iter_} epochs run, best {reg.best_epoch_}")

# %%
# With the same ``random_state`` both fits start from the same weights and
# shuffle the same way each epoch, so the early-stopped run is exactly the
# first epochs of the long one: early stopping changes only where training
# ends and which weights are kept.
n = stopped.n_iter_
same = np.array_equal(stopped.history_.to_numpy(), full.history_.iloc[:n].to_numpy())
print(f"first {n} epochs identical in both histories: {same}")

# %%
# Learning curves
# ---------------
# Both fits record the best epoch, the last one whose ``val_loss`` beat the
# best so far by more than ``min_delta``. With early stopping, training ends
# ``patience`` epochs after it (the dotted line) and its weights are put back;
# without, training runs on and ``best_epoch_`` is only information.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True, sharey=True)
for ax, reg, title in [
    (axes[0], stopped, "early stopping, best weights restored"),
    (axes[1], full, "no early stopping: last weights kept"),
]:
    TrainingHistoryDisplay.from_estimator(reg, ax=ax)
    ax.axvline(reg.n_iter_, color="tab:red", linestyle=":", label=f"stopped at {reg.n_iter_}")
    ax.legend()
    ax.set_title(title)
fig.tight_layout()
plt.show()

# %%
# Past the best epoch the training loss keeps falling and the validation loss
# does not: the network is fitting the training wines' noise. The long run's
# final weights land wherever the last epoch's noisy validation loss happens
# to be, which is why ``restore_best_weights=True`` pairs with early stopping.
# The best epoch is judged on the same 30% that reports the final MAE here, so
# that MAE is slightly optimistic; keep a separate test set (or use
# cross-validation) for an unbiased figure.
