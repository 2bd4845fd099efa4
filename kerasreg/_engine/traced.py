"""A workspace's programs: traced, or defined from a saved trace (the trace cache).

Without a trace cache (see kerasreg._compat.startup.trace_cache_directory), a
program is ``fn`` traced as a ConcreteFunction under names that depend on its
key (see kerasreg._compat.tensorflow.stable_names). With one, the first
program of its key in a process is defined from an earlier process's trace
(kerasreg._trace_cache) if there is one; if not, it is traced under draft
names, saved, and defined from that trace, as a later process will define
it: the same graph under the same names, so that XLA keys it alike in every
process (see kerasreg._compat.functions.export_function). Anything amiss
with a saved trace, or a TensorFlow whose internals differ: traced as
without a cache.
"""

import hashlib
import pathlib

import tensorflow as tf

from .. import _trace_cache
from .._compat import functions
from .._compat.startup import trace_cache_directory
from .._compat.tensorflow import stable_names


def program(key, fn, signature, variables, xla=False):
    """``(callable of tensors, whether fn was traced)`` for key's program.

    ``variables``: every variable fn may read, in a fixed order (a saved
    trace names those it captures by their index).
    """
    folder = trace_cache_directory()
    with stable_names(key, draft=folder is not None) as names:
        if not names.first:
            folder = None
        text = _trace_key(key) if folder else None
        if folder:
            run = _defined(folder, text, len(signature), variables)
            if run is not None:
                return run, False
        concrete = tf.function(fn, jit_compile=xla, autograph=False).get_concrete_function(
            *signature
        )
        if folder:
            return _saved(folder, text, concrete, names, variables) or concrete, True
        return concrete, True


def _saved(folder, text, concrete, names, variables):
    """The traced program, saved and defined from its trace; None where it cannot be."""
    exported = functions.export_function(concrete, rename=(names.stem, names.final))
    if exported is None:
        return None
    name, library, inputs, outputs, captured = exported
    index = {id(v.handle): i for i, v in enumerate(variables)}
    if not all(id(c) in index for c in captured):
        return None
    try:
        functions.define_functions(library, name, inputs, outputs)
    except ValueError:
        return None
    _trace_cache.write(
        folder, text, library, name=name, inputs=inputs, outputs=outputs,
        captured=[index[id(c)] for c in captured],
    )  # fmt: skip
    return Defined(name, captured, outputs)


def _defined(folder, text, arguments, variables):
    """The program defined from its saved trace, or None (none, or not sound)."""
    saved = _trace_cache.read(folder, text)
    if saved is None:
        return None
    try:
        captured = [variables[i].handle for i in saved["captured"]]
        if saved["inputs"] != arguments + len(captured):
            return None
        functions.define_functions(
            saved["payload"], saved["name"], saved["inputs"], saved["outputs"]
        )
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return Defined(saved["name"], captured, saved["outputs"])


class Defined:
    """A program defined from a saved trace (this process's or an earlier one's): called by name."""

    def __init__(self, name, captured, outputs):
        self.name, self.captured, self.outputs = name, captured, outputs

    def __call__(self, *args):
        return functions.call_function(self.name, [*args, *self.captured], self.outputs)


_source_digest = []


def _trace_key(key):
    """The saved-trace key of a program key: with TensorFlow's version and kerasreg's source.

    Any change to kerasreg's code (what the graph is traced from) or to
    TensorFlow gives a new key, so a saved trace is never of other code.
    """
    if not _source_digest:
        h = hashlib.sha256()
        root = pathlib.Path(__file__).resolve().parent.parent
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        _source_digest.append(h.hexdigest()[:16])
    return repr((key, tf.__version__, _source_digest[0]))
