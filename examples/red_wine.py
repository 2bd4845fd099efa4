"""Fit the course's red wine network and save its learning curve.

The seed's recipe: 70/30 split, inputs and quality scaled to [0, 1], three
Dense ReLU layers of 512 units, Adam, MAE, batches of 256, early stopping
(min_delta=0.001, patience=20) on the 30% with the best weights restored.

Run: ``python examples/red_wine.py`` (writes ``red_wine_learning_curve.png``).
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine

X, y = load_red_wine(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)

start = time.perf_counter()
reg = DenseRegressor(random_state=0, verbose=1)
reg.fit(X_train, y_train, validation_data=(X_valid, y_valid))
seconds = time.perf_counter() - start

mae = np.mean(np.abs(reg.predict(X_valid) - y_valid))
print(f"validation MAE: {mae:.3f} quality points")
print(f"stopped after epoch {reg.n_iter_}; best epoch {reg.best_epoch_} ({seconds:.1f} s)")

ax = reg.history_.plot(title="Red wine: 3 x 512 ReLU, Adam, MAE")
ax.axvline(reg.best_epoch_, color="grey", linestyle="--", label="best epoch")
ax.set_xlabel("epoch")
ax.set_ylabel("MAE (scaled quality)")
ax.legend()
out = "red_wine_learning_curve.png"
plt.savefig(out, dpi=100, bbox_inches="tight")
print(f"learning curve saved to {out}")
