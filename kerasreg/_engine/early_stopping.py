"""Early stopping's rule: what ``keras.callbacks.EarlyStopping`` decides after an epoch.

One function, :func:`update`, written in TensorFlow operations so that the
engine's compiled epochs program runs it between epochs with no return to
Python, and so that it can be run alone, eagerly, on any sequence of losses
(the tests compare it with Keras's own callback on the same sequences).

For a loss (Keras's ``mode="min"``, ``baseline=None``, ``start_from_epoch=0``):

* the first epoch is always an improvement (Keras's ``best`` starts as None);
* a later epoch is an improvement when ``monitored < best - min_delta``. Keras
  tests ``monitored + min_delta < best`` with ``keras.ops.less``, which takes
  the float64 sum and the best as float32 tensors: the same is done here, so
  that ties within float32's resolution go the same way;
* after the first epoch, a NaN is never an improvement (the comparison is false);
* each epoch adds one to ``wait``; an improvement sets it back to 0 and
  records the epoch as the best; an epoch that does not improve stops
  training once ``wait >= patience``, except the first epoch.

What the engine adds is not part of the rule: it stops at a loss that is not
finite whatever ``early_stopping`` says, and ignores ``stop`` when early
stopping is off (the best epoch is still tracked).
"""

import tensorflow as tf


def update(best, wait, best_epoch, epoch, monitored, min_delta, patience):
    """Early stopping's state after an epoch, as ``keras.callbacks.EarlyStopping``.

    Parameters
    ----------
    best : float32 scalar tensor
        The monitored loss of the best epoch so far (any value before the first).
    wait : int32 scalar tensor
        Epochs since the best epoch.
    best_epoch : int32 scalar tensor
        The best epoch so far, 1-based; 0 before the first epoch.
    epoch : int32 scalar tensor
        This epoch, 1-based.
    monitored : float scalar tensor
        This epoch's monitored loss.
    min_delta : float64 scalar tensor
        Least decrease that counts as an improvement, non-negative.
    patience : int32 scalar tensor
        Epochs without improvement before stopping.

    Returns
    -------
    best, wait, best_epoch : tensors
        The state after this epoch.
    improved : bool tensor
        Whether this epoch is the best so far (its weights are the ones to keep).
    stop : bool tensor
        Whether training stops after this epoch.

    Examples
    --------
    >>> import tensorflow as tf
    >>> from kerasreg._engine.early_stopping import update
    >>> state = (tf.constant(0.0), tf.constant(0), tf.constant(0))
    >>> for epoch, loss in enumerate([0.5, 0.4995, 0.498], start=1):
    ...     *state, improved, stop = update(*state, tf.constant(epoch), tf.constant(loss),
    ...                                     tf.constant(0.001, tf.float64), tf.constant(1))
    ...     print(epoch, bool(improved), bool(stop))
    1 True False
    2 False True
    3 True False
    """
    monitored = tf.cast(monitored, tf.float32)
    threshold = tf.cast(tf.cast(monitored, tf.float64) + min_delta, tf.float32)
    improved = tf.equal(best_epoch, 0) | (threshold < best)
    best = tf.where(improved, monitored, best)
    best_epoch = tf.where(improved, epoch, best_epoch)
    wait = tf.where(improved, 0, wait + 1)
    stop = ~improved & (wait >= patience) & (epoch > 1)
    return best, wait, best_epoch, improved, stop
