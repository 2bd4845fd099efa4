"""What a training run is asked to do (:class:`TrainConfig`) and the engine's tunable settings.

:class:`TrainConfig` is built once per fit by the estimator from its
parameters; the engine takes it whole. It has no defaults of its own: the
defaults are the estimator's.

:data:`settings` holds the engine's tuning constants: how epochs are grouped
into calls, how data are padded, when XLA compiles and how many programs are
kept. They change speed and memory, never results. Tests and benchmarks may
change them for a while with :func:`tuned`.
"""

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TrainConfig:
    """A training run's hyper-parameters (the estimator's parameters of the same names).

    ``seed`` draws the shuffles and dropout masks; ``jit_compile`` is
    ``"auto"``, True or False (see :func:`kerasreg._engine.cache.use_xla`);
    ``alpha`` is the L2 penalty on the kernels, as Keras's ``L2(alpha)``.
    """

    optimizer: str
    learning_rate: float
    loss: str
    alpha: float
    batch_size: int
    epochs: int
    shuffle: bool
    seed: int
    early_stopping: bool
    patience: int
    min_delta: float
    restore_best_weights: bool
    jit_compile: Literal["auto"] | bool

    @classmethod
    def from_params(cls, params, seed):
        """The config for an estimator's ``get_params()``, with the run's seed."""
        values = {"seed": seed}
        for f in dataclasses.fields(cls):
            if f.name != "seed":
                value = params[f.name]
                # Plain Python numbers, whatever NumPy scalars the user gave.
                values[f.name] = f.type(value) if f.type in (int, float, bool) else value
        return cls(**values)


@dataclass
class Settings:
    """The engine's tunable settings: speed and memory, never results.

    Attributes
    ----------
    eval_rows : int
        Validation rows evaluated at a time, to bound memory.
    min_train_rows, min_val_rows : int
        Training (validation) data are padded to at least this many rows, so
        that small data sets of any size share one compiled program.
    max_epochs_per_call : int
        Without callbacks, one call runs several epochs (the Python loop
        around a call costs as much as a small network's epoch): at most this
        many,
    max_order_rows_per_call : int
        and at most this many rows of shuffled order,
    seconds_per_call : float
        and about this many seconds of work, so that Ctrl-C is answered promptly.
    timed_signatures : int
        Epoch times a workspace remembers (by network, data and batch size),
        so that a repeated fit's first call runs a whole group of epochs.
    idle_workspaces : int
        Idle workspaces kept for reuse: more structures than a grid search
        usually tries, since a cache too small for a search that cycles
        through its candidates misses every time.
    xla_programs : int
        TensorFlow never frees an XLA compilation (~5.5 MB and ~150 memory
        mappings each; some 400 hit the kernel's map limit and abort the
        process): past this many, fits of anything new run as a plain graph.
    xla_min_steps, xla_min_fit_steps, xla_min_macs, xla_min_work : int
        ``jit_compile="auto"`` compiles with XLA when an epoch has at least
        ``xla_min_steps`` mini-batches and the epochs the fit is expected to
        run ``xla_min_fit_steps``, or the network ``xla_min_macs``
        multiply-adds per row and, times the training rows and those epochs,
        ``xla_min_work`` (see use_xla).
    xla_patiences : int
        With early stopping, the XLA policy expects a fit to run at most this
        many times its patience epochs (see cache.expected_epochs).
    xla_min_address_space : int
        Below this address-space limit (``ulimit -v``) ``"auto"`` does not
        compile: XLA's compiler threads need a few GB of address space and
        abort the process without it.
    pad_widths : bool
        XLA runs hidden layers padded to a few widths (see
        kerasreg._engine.widths), so that networks of nearby widths share a
        compilation.
    pad_small_macs : int
        Widths up to 64 are padded to 64 where the padded network has at
        most this many multiply-adds per row (64x3 on 11 inputs has 9,000),
        else to the next power of two.
    serial_step_macs : int
        A plain graph runs each operation on one thread where a step's
        multiply-adds (batch size times the network's per row) are at most
        this many (see kerasreg._engine.serial): 3x256 in batches of 256
        (34 million) trains faster so, 3x512 in batches of 256 (136 million)
        slower. 0: never.
    skip_grappler : bool
        Run the engine's programs without Grappler's graph rewrites (see
        kerasreg._compat.tensorflow.without_grappler).
    after_call : callable or None
        Called as ``after_call(inputs, outputs)`` after every call of an
        epochs program, for tests and profiling; it may raise (e.g.
        KeyboardInterrupt, as a Ctrl-C arriving then would).
    """

    eval_rows: int = 4096
    min_train_rows: int = 1024
    min_val_rows: int = 256
    max_epochs_per_call: int = 64
    max_order_rows_per_call: int = 1 << 18
    seconds_per_call: float = 0.2
    timed_signatures: int = 64
    idle_workspaces: int = 32
    xla_programs: int = 100
    xla_min_steps: int = 16
    xla_min_fit_steps: int = 5_000
    xla_min_macs: int = 250_000
    xla_min_work: int = 300_000_000_000
    xla_patiences: int = 10
    xla_min_address_space: int = 16 << 30
    pad_widths: bool = True
    pad_small_macs: int = 16_384
    serial_step_macs: int = 64_000_000
    skip_grappler: bool = True
    after_call: Callable | None = None


#: The settings in force.
settings = Settings()


@contextlib.contextmanager
def tuned(**changes):
    """Change :data:`settings` inside a ``with`` block, restoring them after.

    >>> from kerasreg._engine.config import settings, tuned
    >>> with tuned(seconds_per_call=1.0):
    ...     settings.seconds_per_call
    1.0
    >>> settings.seconds_per_call
    0.2
    """
    saved = dataclasses.asdict(settings)
    unknown = set(changes) - set(saved)
    if unknown:
        raise TypeError(f"Unknown engine settings: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(settings, name, value)
    try:
        yield settings
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
