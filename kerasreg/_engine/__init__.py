"""The training engine: whole epochs in one compiled TensorFlow call.

Keras's ``model.fit`` returns to Python after every mini-batch; on tabular data
that overhead costs more than the arithmetic. Here one ``tf.function`` runs
epochs: each epoch's mini-batch updates in its shuffled order, the validation
loss and early stopping's bookkeeping. Python draws the shuffles and records
the history.

The engine knows nothing of scikit-learn: it takes float32 arrays, a
:class:`~kerasreg._network.NetworkSpec` and a :class:`TrainConfig`, and
returns weights and a history. It needs TensorFlow, whatever Keras backend
the user runs (``KERAS_BACKEND``); Keras appears only in the model it hands
to Keras callbacks. Its parts, each one idea:

- :mod:`~kerasreg._engine.config`: the run's configuration and the tunable settings;
- :mod:`~kerasreg._engine.loop`: the training loop (:func:`train`);
- :mod:`~kerasreg._engine.program`: the compiled program and its variables;
- :mod:`~kerasreg._engine.traced`: its programs traced, or defined from a saved trace;
- :mod:`~kerasreg._engine.serial`: small steps run one thread per operation;
- :mod:`~kerasreg._engine.step`: the forward and backward step of an epoch;
- :mod:`~kerasreg._engine.updates`: the update rules;
- :mod:`~kerasreg._engine.early_stopping`: Keras's early-stopping rule;
- :mod:`~kerasreg._engine.cache`: which program trains a fit (reuse, XLA policy);
- :mod:`~kerasreg._engine.tensors`: padding and zero-copy tensors;
- :mod:`~kerasreg._engine.threads`: the size of TensorFlow's thread pools.
"""

from .._compat.startup import import_quietly

import_quietly("tensorflow")  # before any module here imports it

from .config import Settings, TrainConfig, settings, tuned  # noqa: E402
from .loop import POOL, XLA_BUDGET, DivergedError, TrainResult, TrainState, train  # noqa: E402
from .tensors import PaddedRows, aligned, batch_and_rows, val_rows  # noqa: E402

__all__ = [
    "POOL", "XLA_BUDGET", "DivergedError", "PaddedRows", "Settings", "TrainConfig", "TrainResult",
    "TrainState", "aligned", "batch_and_rows", "settings", "train", "tuned", "val_rows",
]  # fmt: skip
