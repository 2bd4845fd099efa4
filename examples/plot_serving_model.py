"""
===============================================
A model to serve: raw features in, quality out
===============================================

``DenseRegressor`` min-max scales its inputs and its target, so its Keras
model, ``model_``, takes scaled features and returns a scaled quality: fed the
raw features of a wine, it answers nonsense without an error.
:meth:`~kerasreg.DenseRegressor.to_keras` returns the model to ship instead:
the scaling is affine, so it is folded exactly into the first and the output
``Dense`` layer, and the model takes the wine's measurements as they are and
returns its quality in points. It needs nothing of kerasreg or scikit-learn to
run: save it as a ``.keras`` file, or export a SavedModel for TensorFlow
Serving.
"""

# %%
# Fit, and build the serving model
# --------------------------------
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from kerasreg import DenseRegressor
from kerasreg.datasets import load_red_wine

X, y = load_red_wine(return_X_y=True)
X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)
reg = DenseRegressor(width=64, depth=2, random_state=0)
reg.fit(X_train, y_train, X_val=X_valid, y_val=y_valid)
served = reg.to_keras()
served.summary()

# %%
# The same predictions, from the raw features
# -------------------------------------------
# ``predict`` computes in float64, the Keras model in float32: they agree to
# float32's precision. ``model_`` on the same raw features does not.
raw = X_valid.astype(np.float32)
ours = reg.predict(X_valid)
keras_raw = served.predict(raw, verbose=0)[:, 0]
scaled_model = keras.ops.convert_to_numpy(reg.model_(raw))[:, 0]
print(f"largest |to_keras() - predict|: {np.abs(keras_raw - ours).max():.2e} quality points")
print(f"largest |model_(raw) - predict|: {np.abs(scaled_model - ours).max():.1f} quality points")

# %%
# Saved, loaded elsewhere, and exported for serving
# -------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "wine.keras"
    served.save(path)
    loaded = keras.models.load_model(path)
    again = loaded.predict(raw, verbose=0)[:, 0]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        served.export(str(Path(tmp) / "served"), verbose=False)
        savedmodel = tf.saved_model.load(str(Path(tmp) / "served"))
        exported = savedmodel.serve(tf.constant(raw)).numpy()[:, 0]
        print(f"SavedModel vs predict: {np.abs(exported - ours).max():.2e} quality points")
print(f"loaded .keras vs predict: {np.abs(again - ours).max():.2e} quality points")

# %%
# What the served model answers
# -----------------------------
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(y_valid + np.random.RandomState(0).uniform(-0.2, 0.2, len(y_valid)), keras_raw, s=8,
           alpha=0.5)  # fmt: skip
ax.plot([3, 8], [3, 8], color="grey", linestyle="--")
ax.set(xlabel="quality (jittered)", ylabel="to_keras() prediction",
       title="The served model on the validation wines, raw features in")  # fmt: skip
plt.show()
