"""
==============================
Out-of-core training with Dask
==============================

Data larger than memory, trained a block at a time:
:class:`dask_ml.wrappers.Incremental` calls ``DenseRegressor.partial_fit``
once per block of a Dask array, so that a worker holds a block (and the
next) rather than the whole array. Each call is one epoch over its block, with
Adam's state carried on from the block before, so one ``fit`` is one pass over
all the rows.

Here a :class:`~distributed.LocalCluster` stands in for a cluster, and the
array is small (200,000 rows × 20 in 10 blocks) so that the example runs in
seconds; the code is the same for a larger array on a real cluster (see
"The same code on a real cluster" below). Install the ``distributed`` extra: ``pip install
"kerasreg[distributed]"`` brings Dask, ``distributed`` and dask-ml.
"""

# %%
# A cluster and a lazy array
# --------------------------
# One worker of one thread, inside this process. ``worker-saturation`` 1.0
# tells the scheduler to hand the worker a new block only when it has
# nothing else to run: the worker holds the block it trains on and the
# next, rather than generating two blocks ahead.
import dask
import dask.array as da
import matplotlib.pyplot as plt
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from sklearn.metrics import r2_score

from kerasreg import DenseRegressor

dask.config.set({"distributed.scheduler.worker-saturation": 1.0})
cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)

# Nothing is computed yet: each block is drawn when a task needs it.
ROWS, FEATURES, BLOCK = 200_000, 20, 20_000
rs = da.random.RandomState(0)
X = rs.uniform(-1, 1, size=(ROWS + BLOCK, FEATURES), chunks=(BLOCK, FEATURES))
y = (
    da.sin(3 * X[:, 0])
    + X[:, 1] * X[:, 2]
    + abs(X[:, 3])
    + 0.5 * X[:, 4:].sum(axis=1) / (FEATURES - 4) ** 0.5
    + rs.normal(0, 0.1, size=ROWS + BLOCK, chunks=BLOCK)
)
# The last block is held out for scoring.
X_train, y_train, X_test, y_test = X[:ROWS], y[:ROWS], X[ROWS:], y[ROWS:]
print(f"X_train: {X_train.shape[0]:,} rows in {X_train.numblocks[0]} blocks of {BLOCK:,}")

# %%
# Training a block at a time
# --------------------------
# ``Incremental.fit`` is one pass over the blocks (in a random order, drawn
# from ``random_state``); ``Incremental.partial_fit`` goes on from it for each
# further pass. ``early_stopping=False`` because ``partial_fit`` has no
# validation rows: keep the best pass yourself if you need one.
PASSES = 3
inc = Incremental(
    DenseRegressor(width=32, depth=2, batch_size=256, early_stopping=False, random_state=0),
    random_state=0,
)
inc.fit(X_train, y_train)
for _ in range(PASSES - 1):
    inc.partial_fit(X_train, y_train)
reg = inc.estimator_  # the fitted DenseRegressor: one history_ row per block
print(f"{reg.n_iter_} partial_fit calls: {PASSES} passes over {X_train.numblocks[0]} blocks")

# %%
# Held-out R²
# -----------
# ``inc.predict`` returns a lazy Dask array, predicted block by block. Score
# it with scikit-learn's metric on the computed block: dask-ml's own scorers
# (``inc.score``, ``scoring="r2"``) fail on Dask arrays with dask 2025.2 and
# later (dask-ml issue 1012). A test set larger than memory can be scored
# block by block the same way, summing squared errors.
y_true, y_pred = dask.compute(y_test, inc.predict(X_test))
print(f"held-out R² {r2_score(y_true, y_pred):.4f}")

# %%
# The same code on a real cluster
# -------------------------------
# Replace the ``LocalCluster`` with the scheduler's address,
# ``client = Client("tcp://scheduler:8786")``, and build ``X`` and ``y`` from
# files the workers read themselves (``da.from_zarr``,
# ``dask.dataframe.read_parquet(...).to_dask_array(lengths=True)``), not from
# data on the client. Then:
#
# * every worker needs kerasreg (with TensorFlow) and dask-ml installed, at
#   the versions the client has: the estimator travels to them pickled, and
#   the first block a worker trains traces the network there;
# * each block must fit in a worker's memory several times over: the block,
#   the next one, and the engine's float32 copy of it (about four blocks of
#   X and y at the peak, measured in the user guide);
# * set ``worker-saturation`` on the scheduler (its Dask configuration, or
#   ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0`` where it starts);
# * the scalers come from the first block ``partial_fit`` sees: shuffled
#   blocks (the default) make it a random one, close to the whole data's
#   range; for data sorted by date or by target, scale it yourself and pass
#   ``scale_inputs=False, scale_target=False``.
#
# The blocks are trained one after the other (each step needs the one before),
# so more workers bring memory and reading, not faster training.

# %%
# The loss, block by block
# ------------------------
# Each ``partial_fit`` call adds one row to ``history_``: the training MAE
# (on the scaled target) over its block.
loss = reg.history_["loss"]
blocks = X_train.numblocks[0]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(loss.index, loss.to_numpy(), marker="o", markersize=3)
for p in range(1, PASSES):
    ax.axvline(p * blocks + 0.5, color="0.7", linestyle="--", linewidth=1)
ax.set_xlabel("partial_fit call (one block each; dashed: a new pass)")
ax.set_ylabel("training MAE (scaled)")
ax.set_title(f"Incremental(DenseRegressor): held-out R² {r2_score(y_true, y_pred):.3f}")
fig.tight_layout()

client.close()
cluster.close()
plt.show()
