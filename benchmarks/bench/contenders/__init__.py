"""The contenders: one module per way of training the seed's network, one interface.

A contender module defines a ``Contender`` subclass and ``CONTENDER``, one instance
of it. ``REGISTRY`` lists the modules in the order of the report's tables. To add
a contender: a new module here, plus its name in ``REGISTRY``. W1 / W2 run every
contender (``dense``, whose models predict latency times with ``predict_calls``);
W3 those that override ``search``; W4 kerasreg and, for reference, MLPRegressor
(``estimator``).

A contender imports its library in ``available()``, never at module import: a
missing package raises ``Skipped`` there, and the report shows a skipped row.
An ``IsolatedContender`` (another Keras backend, PyTorch) runs its W1 / W2 fits in
a process of its own, so that backends and thread pools don't collide.
"""

import contextlib
import importlib

REGISTRY = [
    "kerasreg", "keras", "keras_jax", "keras_jax_tuned", "keras_tf_tuned", "torch_loop",
    "skorch_net", "scikeras", "keras_wrapper", "mlp",
]  # fmt: skip
BASELINE = "kerasreg"


class DenseFit:
    """One contender's fits of one network on ``WineData``.

    Calling it runs one whole fit and returns ``(seconds, info)``, info being
    ``epochs``, ``val_mae`` and ``validates`` (whether a validation loss was
    computed every epoch). The first call is the warm-up fit; later calls are
    timed fits that reuse what the library lets a user reuse. ``model``: the
    last fitted model, for the predict workload (None: not offered).
    """

    def __init__(self, lib, d, net, epochs):
        self.lib, self.d, self.epochs = lib, d, epochs
        self.width, self.depth, self.batch_size = net["width"], net["depth"], net["batch_size"]
        self.model = None

    def __call__(self):
        raise NotImplementedError

    def result(self, seconds, epochs, pred, validates):
        return seconds, dict(epochs=epochs, val_mae=self.d.val_mae(pred), validates=validates)


class Contender:
    key = ""  # the module's name, as in REGISTRY
    name = ""  # its row in the W1, W2 and W3 tables
    short = ""  # its rows in the W4 table
    note = ""  # W1 / W2 notes column
    search_note = ""  # W3 settings column
    fit_class = DenseFit  # what dense() returns
    # A module the library imports on its first fit, not at import (the first-fit
    # workload imports it first and times it apart).
    lazy_import = None

    def available(self):
        """Import the library (returned, for the other methods); ``Skipped`` if missing."""
        raise NotImplementedError

    def dense(self, d, net, epochs, rounds=2):
        """A ``DenseFit`` for W1 / W2: ``net`` = width, depth, batch_size; ``rounds`` calls."""
        return self.fit_class(self.available(), d, net, epochs)

    def search(self, grid, cv, epochs):
        """W3: ``(GridSearchCV on raw X and y, params -> {width, depth, batch_size})``."""
        raise NotImplementedError

    def estimator(self, width, depth, batch_size, epochs):
        """W4: a new estimator for raw X and y, ``epochs`` epochs without early stopping."""
        raise NotImplementedError

    def predict_calls(self, model):
        """Predict latency: ``[(label, fn(X), takes raw X)]`` for the model of ``dense``."""
        return []

    def quiet(self):
        """A context in which this contender's fits run (to silence its warnings)."""
        return contextlib.nullcontext()

    def environment(self):
        """What a fresh process of this contender adds to its environment."""
        return {}


class IsolatedContender(Contender):
    """A contender whose W1 / W2 fits run in a fresh process (see ``bench.isolated``).

    ``local_fit_class`` is the ``DenseFit`` that process runs; ``requires`` the
    modules it needs, looked for (not imported) in this process;
    ``environment()`` what that process's environment adds.
    """

    local_fit_class = DenseFit
    requires = ()

    def available(self):
        return __import__(self.requires[0]) if self.requires else None

    def dense(self, d, net, epochs, rounds=2):
        import importlib.util

        from ..harness import Skipped
        from ..isolated import IsolatedFit

        missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if missing:
            raise Skipped(f"skipped: {', '.join(missing)} not installed")
        return IsolatedFit(self, d, net, epochs, rounds)


def load(key):
    return importlib.import_module(f"{__name__}.{key}").CONTENDER


def all_contenders():
    return [load(key) for key in REGISTRY]


def name_of(key):
    return load(key).name


def offers(contender, method):
    """Whether ``contender`` overrides ``Contender.<method>`` (takes part in its workload)."""
    return getattr(type(contender), method) is not getattr(Contender, method)
