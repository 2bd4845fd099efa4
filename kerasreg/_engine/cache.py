"""Which program trains a fit: the cache of workspaces and the XLA policy.

A workspace (see :mod:`kerasreg._engine.program`) is traced once per network
:class:`Structure`, optimizer, loss and XLA choice, and reused by every fit of
that key, whatever its widths, data size and batch size: the folds of a
cross-validation and the candidates of a grid search never trace again. XLA,
where it is used, still compiles once per shape; it never frees a compilation,
so the number of XLA programs is capped (``settings.xla_programs``).
"""

import collections
import threading

from .config import settings
from .widths import macs


class Structure(tuple):
    """What a traced epochs program depends on: a network's structure, not its sizes.

    ``(depth, activation, dropout, batch_norm)``: the widths, the numbers of
    features and outputs, the data's size and the batch size are shapes the
    program takes at run time.
    """

    __slots__ = ()

    def __new__(cls, spec):
        return super().__new__(
            cls, (len(spec.hidden_layer_sizes), spec.activation, spec.dropout, spec.batch_norm)
        )

    depth = property(lambda self: self[0])
    activation = property(lambda self: self[1])
    dropout = property(lambda self: self[2])
    batch_norm = property(lambda self: self[3])


class WorkspacePool:
    """Idle workspaces by (structure, optimizer, loss, xla, penalized), least recently used first.

    A workspace in use is checked out of the pool, so concurrent fits never
    share variables. ``settings.idle_workspaces`` bounds the idle ones.
    """

    def __init__(self, create):
        self._create = create
        self._idle = collections.OrderedDict()
        self._lock = threading.Lock()
        #: Workspaces built so far (each traces its program once).
        self.created = 0

    def checkout(self, key):
        """An idle workspace for key (structure, optimizer, loss, xla, penalized), or a new one."""
        with self._lock:
            if key in self._idle:
                return self._idle.pop(key)
            self.created += 1
        return self._create(*key)

    def checkin(self, key, workspace):
        with self._lock:
            # One idle workspace per key is enough for sequential fits.
            self._idle.pop(key, None)
            self._idle[key] = workspace
            while len(self._idle) > settings.idle_workspaces:
                self._idle.popitem(last=False)

    def idle(self):
        """The idle ``(key, workspace)`` pairs, least recently used first."""
        with self._lock:
            return list(self._idle.items())

    def clear(self):
        with self._lock:
            self._idle.clear()


class XlaBudget:
    """The XLA compilations made in this process, capped at ``settings.xla_programs``."""

    def __init__(self):
        self._programs = set()
        self._lock = threading.Lock()

    def allows(self, signature, force=False):
        """Whether XLA may run the program for signature (compiled, or room for it).

        With force (``jit_compile=True``), XLA runs it whatever the count.
        """
        with self._lock:
            if signature in self._programs:
                return True
            if len(self._programs) >= settings.xla_programs and not force:
                return False
            self._programs.add(signature)
            return True

    def __len__(self):
        return len(self._programs)

    def reset(self):
        """Forget the count (for tests: the compilations stay in memory)."""
        with self._lock:
            self._programs.clear()


def _address_space_limited():
    """Whether the process runs under an address-space limit (``ulimit -v``) too low for XLA.

    XLA's compiler starts threads whose stacks take address space; under a
    limit of a few GB pthread_create fails inside it ("LLVM ERROR: Unable to
    allocate section memory") and the process aborts, where a plain graph
    trains. Measured (1,000 rows x 20, 2 x 32, batches of 16): a plain-graph
    fit maps 2.1 GB, the same fit with XLA 3.0 GB, and under
    ``prlimit --as=3000000000`` XLA aborted; hence a wide margin
    (``settings.xla_min_address_space``).
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return False
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY and soft < settings.xla_min_address_space


def forced(jit_compile):
    """True or False for jit_compile True or False (NumPy bools too), None for "auto"."""
    return None if isinstance(jit_compile, str) else bool(jit_compile)


def expected_epochs(config):
    """The epochs a fit is expected to run, for the XLA policy (see use_xla).

    Without early stopping, all of ``config.epochs``; with it, at most
    ``settings.xla_patiences`` times its patience: early stopping ends most
    fits long before their last epoch (the benchmark's W3: 55 fits of at
    most 200 epochs, patience 10, ran 61 epochs on average; the course's
    3x512 recipe in examples/red_wine.py, patience 20, stops at epoch 47 of
    500).
    """
    if not config.early_stopping:
        return config.epochs
    return min(config.epochs, settings.xla_patiences * config.patience)


def use_xla(spec, steps_per_epoch, jit_compile="auto", row_epochs=float("inf"), epochs=None):
    """Whether a fit of spec with this many steps per epoch is compiled by XLA.

    ``jit_compile`` True or False decides. ``"auto"`` compiles where it pays:
    XLA adds ~0.6-1.6 s to the first fit of each new network shape, batch
    size and data size (a plain graph adds nothing once its structure is
    traced), and pays back by removing the per-operation dispatch of every
    step. For small networks, against a plain graph run one thread per
    operation (see kerasreg._engine.serial), that saves 25-50 us a
    mini-batch (measured on two cores: 16x1, 64x2, 256x2 in batches of 32 on
    1,007 rows, XLA 0.3, 0.5, 3.2 ms per epoch against 1.1, 1.6, 4.7), so a
    program pays for its 0.7-1.0 s of compiling only after 17,000-27,000
    steps. Hence XLA for small networks needs ``settings.xla_min_steps``
    mini-batches an epoch and ``settings.xla_min_fit_steps`` steps over the
    epochs the fit is expected to run (``epochs``, see expected_epochs; None:
    unbounded): a threshold below a single fit's break-even, as a search's
    folds share the program.
    The grid search of the benchmark's W3 (batches of 32 on 597 rows, at
    most 200 epochs, patience 10: 1,900 steps expected a fit; its refit
    2,800) runs as plain graphs: measured 4.0-4.2 s, against 4.7-4.9 s with
    the refit compiled (before expected_epochs) and 8.4 s with XLA for every
    fit (``python benchmarks/profile_w3.py [--xla]``). With few batches per
    epoch a plain graph runs within tens of percent of XLA (red wine in
    batches of 256: 5 steps an epoch). For large layers XLA's fusion gains
    ~10% a step, which pays for the compilation only over enough work: the
    network's multiply-adds per row times ``row_epochs``, the training rows
    times the epochs the fit is expected to run, at least
    ``settings.xla_min_work``. The course's 3x512 fit (1,119 rows, at most
    300 epochs) runs as a plain graph: measured on two cores, 68.5 (XLA)
    and 76.2 ms per epoch on 1,599 rows, against 1.5 s more for the first
    fit with XLA, so XLA is ahead after ~200 epochs there and the course's
    fit stops at ~65. The choice depends only on the fit's own network,
    rows, batch size and epochs, so a fit gives the same result whatever ran
    before it. Never under an address-space limit (see
    _address_space_limited).
    """
    if forced(jit_compile) is not None:
        return forced(jit_compile)
    size = macs(spec)
    large = size >= settings.xla_min_macs and size * row_epochs >= settings.xla_min_work
    many_steps = steps_per_epoch >= settings.xla_min_steps and (
        epochs is None or steps_per_epoch * epochs >= settings.xla_min_fit_steps
    )
    return (many_steps or large) and not _address_space_limited()
