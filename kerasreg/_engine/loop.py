"""The training loop: epochs in calls of the compiled program, shuffles, callbacks, Ctrl-C.

Python draws each epoch's shuffled order, calls the workspace's epochs
program (without callbacks, one call runs as many epochs as fit in about
``settings.seconds_per_call``; with callbacks, one, so that they see each
epoch), records the history and reports to Keras callbacks.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from .._compat.startup import start_quietly
from .._fork import check_not_forked
from .._network import NetworkSpec, build_model
from .._registry import OPTIMIZERS
from .cache import Structure, WorkspacePool, XlaBudget, expected_epochs, forced, use_xla
from .config import TrainConfig, settings
from .program import EARLY_STOP, NOT_FINITE, Workspace
from .tensors import aligned, batch_and_rows, padded, shared
from .tensors import val_rows as padded_val_rows
from .threads import size_thread_pools
from .widths import Padding, macs, padded_spec

#: Idle workspaces, for reuse by later fits of the same key.
POOL = WorkspacePool(Workspace)
#: The XLA compilations made in this process.
XLA_BUDGET = XlaBudget()


@dataclass
class TrainState:
    """Where a run left off, for the next run to go on from (``partial_fit``).

    Attributes
    ----------
    slots : list of list of ndarray
        The update rule's state, per slot one array per trained variable.
    iterations : int
        Update steps done (Adam's bias correction and the dropout masks use it).
    epochs : int
        Epochs done (each epoch's shuffle is drawn from the seed and its number).
    """

    slots: list
    iterations: int
    epochs: int


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    weights : list of ndarray
        Final weights, in ``get_weights()`` order.
    history : list of tuple
        ``(loss, val_loss)`` per epoch run; ``val_loss`` is NaN without
        validation data.
    best_epoch : int or None
        1-based epoch whose weights were the best by the monitored loss.
    stop_reason : str
        ``"early_stopping"``, ``"max_epochs"``, ``"callback"``, ``"diverged"``
        or ``"interrupted"``.
    state : TrainState or None
        Where the run left off, when asked for (``keep_state``).
    """

    weights: list | None
    history: list = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = "max_epochs"
    state: TrainState | None = None


class DivergedError(ValueError):
    """The loss became NaN or infinite before any finite epoch."""


def _epochs_per_call(seconds_per_epoch, most):
    """Epochs for a call of about settings.seconds_per_call, given an epoch's seconds."""
    return max(1, min(most, int(settings.seconds_per_call / seconds_per_epoch)))


def train(
    spec: NetworkSpec,
    weights: list,
    train_data: tuple,
    val_data: tuple | None,
    config: TrainConfig,
    callbacks=(),
    *,
    resume: TrainState | None = None,
    keep_state: bool = False,
) -> TrainResult:
    """Train the network ``spec`` from ``weights``.

    Early stopping follows ``keras.callbacks.EarlyStopping``, by the rule in
    :mod:`kerasreg._engine.early_stopping`; the monitored loss is ``val_loss``
    when validation data are given, else the training loss.

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of ndarray
        Initial weights.
    train_data : tuple of ndarray or PaddedRows
        ``(x, y, sample_weight)``, float32, y of shape (n, n_outputs); as
        :class:`~kerasreg._engine.tensors.PaddedRows` of
        ``batch_and_rows(n, config.batch_size)[1]`` rows, they are not copied.
    val_data : tuple of ndarray or PaddedRows, or None
        The same for validation (PaddedRows of ``val_rows(n_val)`` rows).
    config : TrainConfig
    callbacks : sequence of keras.callbacks.Callback
        Given a Keras model of the network (in the user's Keras backend);
        ``on_train_begin``, ``on_epoch_begin``, ``on_epoch_end`` (with
        ``loss`` and ``val_loss`` in the logs) and ``on_train_end`` are
        called. Setting ``model.stop_training`` stops; setting the model's
        weights or its optimizer's learning rate changes the training's.
    resume : TrainState, default=None
        Go on from an earlier run's update-rule state and epoch count (with
        its final weights as ``weights``), as if it had not stopped.
    keep_state : bool, default=False
        Return the run's state in ``result.state``, to resume from.

    Returns
    -------
    TrainResult

    Raises
    ------
    RuntimeError
        In a process forked after TensorFlow ran in its parent (see _fork).
    DivergedError
        If the very first epoch's loss is not finite.
    KeyboardInterrupt
        If interrupted before the first epoch finished.
    """
    check_not_forked()
    # On the first fit: the thread pools, then TensorFlow's runtime.
    start_quietly(configure=size_thread_pools)
    n = len(train_data[0])
    batch_size, rows = batch_and_rows(n, config.batch_size)
    steps_per_epoch = -(-n // batch_size)
    has_val = val_data is not None
    if not has_val:
        val_data = (
            np.zeros((0, spec.n_features), np.float32),
            np.zeros((0, spec.n_outputs), np.float32),
            np.zeros(0, np.float32),
        )
    # A power of two of at least settings.min_val_rows: whole evaluation slices.
    val_rows = padded_val_rows(len(val_data[0]))
    epochs = expected_epochs(config)
    xla = use_xla(spec, steps_per_epoch, config.jit_compile, row_epochs=n * epochs, epochs=epochs)
    # XLA runs the network padded to a few widths (see widths): fewer compilations.
    run_spec = padded_spec(spec) if xla else spec
    # What a compilation and an epoch's time depend on, beyond the workspace.
    signature = (run_spec, rows, val_rows, batch_size)
    if xla and not XLA_BUDGET.allows(
        (config.optimizer, config.loss, config.alpha > 0, *signature),
        force=forced(config.jit_compile) is True,
    ):
        xla, run_spec = False, spec
        signature = (spec, rows, val_rows, batch_size)
    key = (Structure(spec), config.optimizer, config.loss, xla, config.alpha > 0)
    # Checked out for this run alone: concurrent fits never share variables.
    ws = POOL.checkout(key)
    try:
        # Dropout's seeds, one per layer (building a RandomState costs ~80 µs).
        seeds = (
            np.random.RandomState(config.seed).randint(
                np.iinfo(np.int32).max, size=len(spec.hidden_layer_sizes)
            )
            if spec.dropout > 0
            else np.zeros(len(spec.hidden_layer_sizes), np.int64)
        )
        shapes = Padding(spec, run_spec)
        ws.reset(shapes.pad(weights), config.learning_rate, seeds, config.alpha)
        if resume is not None:
            ws.set_optimizer_state(shapes.pad_slots(resume.slots), resume.iterations)
        training = _Run(ws, spec, weights, config, callbacks, has_val, resume, shapes)
        data = (
            *padded(train_data, rows), tf.constant(n, tf.int32),
            padded(val_data, val_rows) + [tf.constant(len(val_data[0]), tf.int32)],
        )  # fmt: skip
        # Without callbacks, a call runs up to most_per_call epochs (their
        # shuffled orders are an input); with callbacks, one epoch per call,
        # so that they see every epoch. Same program, same arithmetic.
        most_per_call = max(1, min(ws.max_epochs, settings.max_order_rows_per_call // rows))
        # A plain graph's small steps run one thread per operation (see serial).
        serial = not xla and batch_size * macs(run_spec) <= settings.serial_step_macs
        result = training.run(n, rows, data, most_per_call, signature, val_rows, batch_size, serial)
        if keep_state:
            done = (resume.epochs if resume else 0) + len(result.history)
            slots, iterations = ws.get_optimizer_state()
            result.state = TrainState(shapes.unpad_slots(slots), iterations, epochs=done)
        return result
    finally:
        POOL.checkin(key, ws)


class _Run:
    """One training run on a checked-out workspace: its history, callbacks and stop."""

    def __init__(self, ws, spec, weights, config, callbacks, has_val, resume, shapes):
        self.ws, self.config, self.has_val, self.shapes = ws, config, has_val, shapes
        # Epochs done in earlier runs: each epoch's shuffle is drawn from its number.
        self.first_epoch = resume.epochs if resume else 0
        self.callbacks = list(callbacks)
        self.model = _NoModel()
        if any(getattr(cb, "reads_model", True) for cb in self.callbacks):
            # Callbacks see a Keras model of this network, in the user's
            # backend, with the current weights at each epoch's end, and an
            # optimizer whose learning rate the training follows.
            import keras

            self.model = build_model(spec, weights)
            self.model.compile(
                optimizer=OPTIMIZERS[config.optimizer].keras(config.learning_rate),
                loss=config.loss,
            )
        if self.callbacks:
            import keras

            self.list = keras.callbacks.CallbackList(
                self.callbacks, model=self.model, epochs=config.epochs, verbose=0
            )
        self.result = TrainResult(weights=None)

    def _record(self, losses):
        for train_loss, val_loss in losses:
            self.result.history.append((train_loss, val_loss if self.has_val else math.nan))

    def run(self, n, rows, data, most_per_call, signature, val_rows, batch_size, serial):
        """Run the epochs; returns the TrainResult."""
        ws, config, cbs, result = self.ws, self.config, self.callbacks, self.result
        history = result.history
        *train_tensors, n_rows, val_tensors = data
        # Always most_per_call orders (XLA compiles once per input shape), passed
        # without a copy; a call uses the first k.
        orders = aligned((most_per_call, rows), np.int32)
        orders[:] = np.arange(rows, dtype=np.int32)
        run_settings = (
            tf.constant(config.early_stopping),
            tf.constant(min(config.patience, np.iinfo(np.int32).max), tf.int32),
            tf.constant(config.min_delta, tf.float64),
            tf.constant(batch_size, tf.int32),
            tf.constant(min(val_rows, settings.eval_rows), tf.int32),
        )
        # The first call runs one epoch, unless an earlier fit timed an
        # epoch of this signature (the first call may compile: it is timed).
        known = ws.epoch_seconds.get(signature)
        per_call = 1 if known is None else _epochs_per_call(known, most_per_call)
        start = 0
        if cbs:
            self.list.on_train_begin()
        try:
            while len(history) < config.epochs:
                start = len(history)
                k = 1 if cbs else min(per_call, config.epochs - start)
                if cbs:
                    self._notify(self.list.on_epoch_begin, self.first_epoch + start, sync=False)
                if config.shuffle:
                    # Shuffled in NumPy: XLA's sort would cost more than the epoch.
                    for j in range(k):
                        rng = np.random.default_rng([config.seed, self.first_epoch + start + j])
                        orders[j, :n] = rng.permutation(n)
                t0 = time.perf_counter()
                losses, state = ws.run_epochs(
                    *train_tensors, n_rows, shared(orders), tf.constant(k), *val_tensors,
                    *run_settings, new=known is None and not start, serial=serial,
                )  # fmt: skip
                ran, status, best_epoch, pending = (int(v) for v in state.numpy())
                per_epoch = (time.perf_counter() - t0) / ran
                ws.remember(signature, per_epoch)
                per_call = _epochs_per_call(per_epoch, most_per_call)
                losses = losses.numpy()
                finite = ran - (status == NOT_FINITE)
                self._record(losses[:finite].tolist())
                result.best_epoch = best_epoch or None
                if status == NOT_FINITE:
                    train_loss, val_loss = losses[finite].tolist()
                    if not best_epoch:
                        raise DivergedError(
                            "The loss was not finite after the first epoch (loss="
                            f"{train_loss}, val_loss={val_loss if self.has_val else math.nan}). "
                            "Lower learning_rate."
                        )
                    result.stop_reason = "diverged"
                    break
                if cbs:
                    logs = {"loss": history[-1][0]}
                    if self.has_val:
                        logs["val_loss"] = history[-1][1]
                    self._notify(self.list.on_epoch_end, self.first_epoch + start, logs)
                if status == EARLY_STOP:
                    result.stop_reason = "early_stopping"
                    break
                if cbs and self.model.stop_training:
                    result.stop_reason = "callback"
                    break
        except KeyboardInterrupt:
            # The interrupted call's epochs may have run without Python seeing
            # its result: the workspace's state says which, and their losses.
            losses, done, best_epoch, pending = ws.read_state()
            self._record(losses[len(history) - start : done - start].tolist())
            if not history:
                raise
            result.best_epoch = best_epoch or None
            result.stop_reason = "interrupted"
        if cbs:
            self._notify(self.list.on_train_end)

        restore = result.stop_reason == "diverged" or (
            config.early_stopping and config.restore_best_weights
        )
        # pending: the live weights are the best, not yet copied to ws.best.
        result.weights = self.shapes.unpad(ws.get_weights(best=restore and not pending))
        return result

    def _notify(self, call, *args, sync=True):
        """Call callbacks with the model's weights as the workspace's live weights.

        With sync, the model gets the live weights first; if a callback changes
        them (``model.set_weights``) or the learning rate, training goes on
        from its values.
        """
        ws, model = self.ws, self.model
        if isinstance(model, _NoModel):
            return call(*args)
        if sync:
            before = self.shapes.unpad(ws.get_weights())
            model.set_weights(before)
        else:
            before = model.get_weights()
        call(*args)
        after = model.get_weights()
        if any(not np.array_equal(a, b) for a, b in zip(after, before)):
            ws.set_weights(self.shapes.pad(after))
        ws.set_learning_rate(_learning_rate(model.optimizer))


def _learning_rate(optimizer):
    """The Keras optimizer's current learning rate (a variable, or a schedule's value)."""
    value = optimizer.learning_rate
    return float(value.numpy() if hasattr(value, "numpy") else value)


class _NoModel:
    """The model for callbacks that never look at it (``reads_model = False``)."""

    stop_training = False
