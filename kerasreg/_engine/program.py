"""The compiled program and its variables: a workspace.

A workspace holds variables of no fixed shape (kernels, biases, batch norm's
statistics, the optimizer's state, early stopping's state) and the epochs
program traced once over them, for any shapes. Loading a network's weights
gives the variables its shapes, so one workspace trains every network of
its :class:`~kerasreg._engine.cache.Structure`.

The training step is written with TensorFlow operations on these variables
(see :mod:`kerasreg._engine.step`) rather than through Keras layers and
optimizers: the same arithmetic as Keras's ``Dense``, ``Dropout``,
``BatchNormalization`` and optimizers, in about a third of the graph
operations, which is what a small network's step costs.
"""

import collections

import numpy as np
import tensorflow as tf

from .._compat.startup import xla_call_quietly
from .._compat.tensorflow import without_grappler
from .._registry import ACTIVATIONS, LOSSES, OPTIMIZERS
from . import step, traced
from .config import settings
from .early_stopping import update as early_stopping_update
from .serial import SerialProgram

# Why a call of the epochs program returned.
RUNNING, EARLY_STOP, NOT_FINITE = 0, 1, 2


def _vector():
    return tf.Variable(tf.zeros([0]), shape=tf.TensorShape([None]), trainable=False)


def _matrix():
    return tf.Variable(tf.zeros([0, 0]), shape=tf.TensorShape([None, None]), trainable=False)


def _like(v):
    """A new variable of no fixed shape, of the same rank as v."""
    return _matrix() if len(v.shape) == 2 else _vector()


class Workspace:
    """Variables of no fixed shape, an update rule and the traced epochs program.

    Parameters
    ----------
    structure : Structure
    optimizer, loss : str
        Names in :mod:`kerasreg._registry`.
    xla : bool
        Whether XLA compiles the epochs program.
    penalized : bool, default=False
        Whether the kernels carry an L2 penalty (its factor, ``alpha``, is
        set by each fit; without one the program has no penalty operations).
    """

    def __init__(self, structure, optimizer, loss, xla, penalized=False):
        self.structure = structure
        # What the traced program depends on (see stable_names).
        self.key = (tuple(structure), optimizer, loss, xla, penalized, settings.max_epochs_per_call)
        self.rule = OPTIMIZERS[optimizer]
        self.loss = LOSSES[loss]
        self.activation = ACTIVATIONS[structure.activation]
        self.xla = xla
        self.penalized = penalized
        # The weights in get_weights() order: for each hidden layer kernel,
        # bias, then batch norm's gamma, beta, moving mean and variance; then
        # the output kernel and bias.
        self.dense, self.batch_norm, self.weights, self.trainable = [], [], [], []
        for _ in range(structure.depth):
            kernel, bias = _matrix(), _vector()
            self.dense.append((kernel, bias))
            self.weights += [kernel, bias]
            self.trainable += [kernel, bias]
            if structure.batch_norm:
                bn = tuple(_vector() for _ in range(4))
                self.batch_norm.append(bn)
                self.weights += bn
                self.trainable += bn[:2]
        output = (_matrix(), _vector())
        self.dense.append(output)
        self.weights += output
        self.trainable += output
        self.slots = [[_like(v) for v in self.trainable] for _ in range(self.rule.slots)]
        self.learning_rate = tf.Variable(0.001, dtype=tf.float32, trainable=False)
        self.alpha = tf.Variable(0.0, dtype=tf.float32, trainable=False)
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.dropout_seeds = tf.Variable(
            tf.zeros([structure.depth or 1], tf.int64), trainable=False
        )
        # The best epoch's weights so far, kept beside the live ones: an epoch
        # copies them in when the previous epoch was the best, so that no
        # epoch pays for a copy to NumPy.
        self.best = [_like(v) for v in self.weights]
        # Early stopping's state between calls, as keras.callbacks.EarlyStopping
        # keeps it: the best monitored loss, epochs since it, its epoch
        # (1-based; 0: none yet), epochs done, whether the live weights are
        # the best and not yet copied to `best`; and the losses of the last
        # call's epochs, which survive a Ctrl-C that loses the call's result.
        self.max_epochs = settings.max_epochs_per_call
        self.best_loss = tf.Variable(tf.constant(np.inf, tf.float32), trainable=False)
        self.wait = tf.Variable(0, trainable=False)
        self.best_epoch = tf.Variable(0, trainable=False)
        self.done = tf.Variable(0, trainable=False)
        self.pending = tf.Variable(False, trainable=False)
        self.losses = tf.Variable(tf.zeros([self.max_epochs, 2]), trainable=False)
        # Seconds per epoch last measured, by (spec, rows, validation rows,
        # batch size) as padded; the most recent settings.timed_signatures.
        self.epoch_seconds = collections.OrderedDict()
        # One program for a run of epochs: the loop over epochs (with early
        # stopping's bookkeeping) around the loop over mini-batches. It is
        # traced once, for any shapes: the variables', the data's (padded,
        # see tensors.padded), the batch size. XLA compiles it again for each
        # new combination of these (the batch size and evaluation slice are
        # compile-time constants there); a plain graph runs any of them. The
        # number of real rows and of epochs to run are inputs, so the folds of
        # a cross-validation share one program, and a call runs one epoch or
        # many with the same arithmetic.
        matrix, vector, scalar = (
            tf.TensorSpec([None, None]), tf.TensorSpec([None]), tf.TensorSpec([], tf.int32)
        )  # fmt: skip
        self._epochs_signature = (
            matrix, matrix, vector, scalar, tf.TensorSpec([None, None], tf.int32), scalar,
            matrix, matrix, vector, scalar, tf.TensorSpec([], tf.bool), scalar,
            tf.TensorSpec([], tf.float64), scalar, scalar,
        )  # fmt: skip
        self._run = self._serial = None
        # Loading and reading every weight in one graph call each, rather than
        # an eager operation per variable: for a small network on small data
        # the per-variable calls cost as much as an epoch. The weights travel
        # as one flat vector, which a graph call takes faster than a list,
        # with their shapes as (rows, columns) pairs (columns 0 for vectors).
        n = len(self.weights)
        flat, dims = tf.TensorSpec([None], tf.float32), tf.TensorSpec([n, 2], tf.int32)
        seeds = tf.TensorSpec(self.dropout_seeds.shape, tf.int64)
        scalar = tf.TensorSpec([], tf.float32)
        # Traces by program ("load", "read", "epochs", "assign"; 0 where
        # defined from a trace cache), without AutoGraph (plain Python loops
        # over the variables): converting their source took 0.7 s of a
        # process's first fit.
        self.traced = collections.Counter()
        self._load = self._function("load", self._load_weights, (flat, dims, scalar, seeds, scalar))
        # Setting the weights alone is for Keras callbacks only: traced on first use.
        self._assign, self._assign_signature = None, (flat, dims)
        self._read = self._function("read", self._read_weights, (tf.TensorSpec([], tf.bool),))

    # ---- the programs: traced, or defined from a saved trace ---------------- #

    def _variables(self):
        """Every variable of the workspace, in a fixed order (what its programs may capture)."""
        slots = [v for slot in self.slots for v in slot]
        state = [self.learning_rate, self.alpha, self.iterations, self.dropout_seeds]
        stopping = [self.best_loss, self.wait, self.best_epoch, self.done, self.pending]
        return [*self.weights, *slots, *self.best, *state, *stopping, self.losses]

    def _function(self, role, fn, signature, xla=False):
        """fn traced for signature (or defined from a saved trace): a callable of tensors."""
        run, was_traced = traced.program(
            (*self.key, role), fn, signature, self._variables(), xla=xla
        )
        self.traced[role] += was_traced
        return run

    # ---- weights in and out ------------------------------------------------ #

    def _read_weights(self, best):
        return [tf.where(best, b, v) for b, v in zip(self.best, self.weights)]

    def _assign_weights(self, flat, dims):
        # Kernels take (rows, columns), vectors (length, 0).
        dims = [d if len(v.shape) == 2 else d[:1] for d, v in zip(tf.unstack(dims), self.weights)]
        sizes = tf.stack([tf.reduce_prod(d) for d in dims])
        values = []
        for v, piece, d in zip(self.weights, tf.split(flat, sizes, num=len(dims)), dims):
            value = tf.reshape(piece, d)
            v.assign(value)
            values.append(value)
        return values

    def _load_weights(self, flat, dims, learning_rate, seeds, alpha):
        values = self._assign_weights(flat, dims)
        for slot in self.slots:
            for s, v in zip(slot, self.trainable):
                s.assign(tf.zeros_like(v))  # read after its assignment (automatic control deps)
        for b, value in zip(self.best, values):
            b.assign(value)
        self.iterations.assign(0)
        self.best_loss.assign(np.inf)
        self.wait.assign(0)
        self.best_epoch.assign(0)
        self.done.assign(0)
        self.pending.assign(False)
        self.dropout_seeds.assign(seeds)
        self.learning_rate.assign(learning_rate)
        self.alpha.assign(alpha)

    @staticmethod
    def _flat(weights):
        flat = np.concatenate([np.ravel(w) for w in weights]).astype(np.float32)
        dims = np.array([(np.shape(w) + (0,))[:2] for w in weights], np.int32)
        return tf.constant(flat), tf.constant(dims)

    def reset(self, weights, learning_rate, seeds, alpha=0.0):
        """Load a network's initial weights; start the optimizer and dropout afresh."""
        seeds = np.asarray(seeds if len(seeds) else [0], dtype=np.int64)
        with without_grappler(settings.skip_grappler):
            self._load(
                *self._flat(weights), tf.constant(learning_rate, tf.float32),
                tf.constant(seeds), tf.constant(alpha, tf.float32),
            )  # fmt: skip

    def set_weights(self, weights):
        """Replace the live weights (a Keras callback changed them); nothing else."""
        if self._assign is None:
            self._assign = self._function("assign", self._assign_weights, self._assign_signature)
        with without_grappler(settings.skip_grappler):
            self._assign(*self._flat(weights))

    def get_weights(self, best=False):
        """The current (or the saved best) weights as new NumPy arrays."""
        with without_grappler(settings.skip_grappler):
            weights = self._read(tf.constant(best))
        return [np.array(t) for t in weights]

    def get_optimizer_state(self):
        """The update rule's state: its slots (per slot, one array per trained variable)
        and its step count. Read in eager operations, for ``partial_fit`` only."""
        slots = [[v.numpy() for v in slot] for slot in self.slots]
        return slots, int(self.iterations.numpy())

    def set_optimizer_state(self, slots, iterations):
        """Go on from an update rule's state (see get_optimizer_state); no slots: fresh ones."""
        for variables, arrays in zip(self.slots, slots):
            for v, a in zip(variables, arrays):
                v.assign(a)
        self.iterations.assign(iterations)

    def set_learning_rate(self, value):
        """The learning rate for the next epochs (a callback's schedule changed it)."""
        self.learning_rate.assign(value)

    # ---- timing and state ---------------------------------------------------- #

    def remember(self, signature, seconds):
        """Record an epoch's seconds for signature (see epoch_seconds)."""
        self.epoch_seconds.pop(signature, None)
        self.epoch_seconds[signature] = seconds
        while len(self.epoch_seconds) > settings.timed_signatures:
            self.epoch_seconds.popitem(last=False)

    def read_state(self):
        """(losses of the last call's epochs, epochs done, best epoch, pending).

        Read after a Ctrl-C only, in eager operations.
        """
        state = (self.done, self.best_epoch, self.pending)
        return (self.losses.numpy(), *(v.numpy().item() for v in state))

    # ---- the epochs program -------------------------------------------------- #

    def run_epochs(self, *args, new=False, serial=False):
        """Run the epochs program (traced on first use, for any shapes); see _epochs.

        ``new``: the call may compile (the first of its shapes in this workspace).
        ``serial``: run each operation on one thread (the loop asks it for a
        plain graph's small steps; see kerasreg._engine.serial). Same results
        either way.
        """
        if self._run is None:
            self._run = self._function("epochs", self._epochs, self._epochs_signature, self.xla)
        run = self._run
        if serial:
            if self._serial is None:
                self._serial = SerialProgram(self._run, self._epochs_signature)
            run = self._serial
        with without_grappler(settings.skip_grappler), xla_call_quietly(self.xla, new):
            outputs = run(*args)
        if settings.after_call is not None:
            settings.after_call(args, outputs)
        return outputs

    @property
    def traces(self):
        """How many times the epochs program was traced (once, on first use; 0 if defined
        from a trace cache)."""
        return self.traced["epochs"]

    def _epochs(
        self, x, y, w, n, orders, k, x_val, y_val, w_val, n_val,
        early_stopping, patience, min_delta, batch_size, eval_rows,
    ):  # fmt: skip
        # Up to k epochs, epoch j in the order orders[j]; stops early as
        # keras.callbacks.EarlyStopping does, or at a loss that is not
        # finite. Early stopping's state lives in variables between calls.
        # The state travels through the loop as loop variables, so that each
        # epoch's decision depends on the previous epoch's data, not on the
        # order in which the runtime reads variables.
        def one_epoch(j, status, best_loss, wait, best_epoch, done, pending, losses):
            # If the weights as they come in are the best so far, keep them.
            for best, v in zip(self.best, self.weights):
                best.assign(tf.where(pending, v, best))
            train_loss, val_loss = step.epoch(
                self, x, y, w, n, orders[j], x_val, y_val, w_val, n_val, batch_size, eval_rows
            )
            losses = tf.tensor_scatter_nd_update(
                losses, [[j]], tf.stack([train_loss, val_loss])[None]
            )
            # Monitored: the validation loss if there are validation data.
            monitored = tf.where(n_val > 0, val_loss, train_loss)
            rule = early_stopping_update(
                best_loss, wait, best_epoch, done + 1, monitored, min_delta, patience
            )
            # A loss that is not finite ends the run (see loop.train); it changes nothing.
            finite = tf.math.is_finite(train_loss) & tf.math.is_finite(val_loss)
            best_loss, wait, best_epoch, improved, stop = (
                tf.where(finite, new, old)
                for new, old in zip(rule, (best_loss, wait, best_epoch, False, False))
            )
            status = tf.where(
                finite, tf.where(early_stopping & stop, EARLY_STOP, RUNNING), NOT_FINITE
            )
            done = tf.where(finite, done + 1, done)
            return j + 1, status, best_loss, wait, best_epoch, done, improved, losses

        state = (
            tf.constant(0), tf.constant(RUNNING), tf.convert_to_tensor(self.best_loss),
            tf.convert_to_tensor(self.wait), tf.convert_to_tensor(self.best_epoch),
            tf.convert_to_tensor(self.done), tf.convert_to_tensor(self.pending),
            tf.zeros([self.max_epochs, 2]),
        )  # fmt: skip
        j, status, best_loss, wait, best_epoch, done, pending, losses = tf.while_loop(
            lambda j, status, *_: (j < k) & tf.equal(status, RUNNING), one_epoch, state
        )
        for var, value in zip(
            (self.best_loss, self.wait, self.best_epoch, self.done, self.pending, self.losses),
            (best_loss, wait, best_epoch, done, pending, losses),
        ):
            var.assign(value)
        # Epochs run (the last one not finite if status says so), and why it stopped.
        return losses, tf.stack([j, status, best_epoch, tf.cast(pending, tf.int32)])
