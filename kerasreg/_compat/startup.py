"""TensorFlow's start: quiet, sized, pointed at the XLA cache; its undocumented flags and logs.

What TensorFlow's C++ runtime writes to file descriptor 2 as it loads, starts
and first compiles (absl's notices, device probes, XLA's first-compile
lines) is held and dropped; the process's runtime starts once, on the first
fit, with the thread pools sized and, with ``KERASREG_XLA_CACHE``, TensorFlow's
persistent-cache flag among its XLA flags. Importing this module does not
import TensorFlow.
"""

import contextlib
import importlib
import os
import re
import sys
import tempfile
import threading
import warnings

from .. import _xla_cache
from .._lazy import LazyModule

tf = LazyModule("tensorflow")

# --------------------------------------------------------------------------- #
# TensorFlow's start-up messages
# --------------------------------------------------------------------------- #

# What TensorFlow's C++ runtime logs while loading and probing devices: absl's
# notice, info and warning lines, the CUDA probe's error on a machine without
# a GPU, and the CPU-instructions note.
_STARTUP_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    # TensorFlow >= 2.18's format: "I0000 00:00:1796153222.097079   18422 port.cc:153] ..."
    r"|[IW]\d{4} \d\d:\d\d:\d\d"
    r"|E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ cuda_\w+\.cc"
    # TensorFlow 2.16's: "2026-12-01 20:08:30.283220: I tensorflow/core/util/port.cc:113] ..."
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IW] |E \S*cuda\S*\.cc)"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow)"
)


# The user's TF_CPP_MIN_LOG_LEVEL, read before TensorFlow or JAX (which sets
# it to 1 when unset) could change it.
_USER_LOG_LEVEL = (
    None if {"tensorflow", "jax"} & set(sys.modules) else os.environ.get("TF_CPP_MIN_LOG_LEVEL")
)


_hold_lock = threading.RLock()
_hold_depth = [0]


class _held_stderr:
    """Hold what is written to file descriptor 2; pass on all but TensorFlow's start-up logs.

    Nothing is held when the user asked for TensorFlow's logs
    (``TF_CPP_MIN_LOG_LEVEL`` 0 or 1), where stderr has no file descriptor or
    no temporary file can be made, or inside another hold (one lock: two
    threads starting TensorFlow at once never swap each other's fd 2).
    Everything held is shown if the block raises. If the process dies inside
    the block (TensorFlow aborting), what was held is lost with it.
    """

    def __enter__(self):
        _hold_lock.acquire()
        _hold_depth[0] += 1
        self.saved = None
        if _USER_LOG_LEVEL in ("0", "1") or _hold_depth[0] > 1:
            return self
        try:
            sys.stderr.flush()
            self.held = tempfile.TemporaryFile()
        except (AttributeError, OSError, ValueError):
            return self
        try:
            self.saved = os.dup(2)
            os.dup2(self.held.fileno(), 2)
        except OSError:
            if self.saved is not None:
                os.close(self.saved)
                self.saved = None
            self.held.close()
        return self

    def __exit__(self, kind, value, traceback):
        try:
            if self.saved is None:
                return
            os.dup2(self.saved, 2)
            os.close(self.saved)
            with self.held:
                self.held.seek(0)
                lines = self.held.read().decode(errors="replace").splitlines(keepends=True)
            kept = lines
            if kind is None:
                kept = [x for x in lines if not (_STARTUP_LOG.match(x) or _CACHE_LOAD_LOG.match(x))]
            if kept:
                sys.stderr.write("".join(kept))
        finally:
            _hold_depth[0] -= 1
            _hold_lock.release()


_xla_started = []
_start_lock = threading.Lock()

# Lines TensorFlow logs as it loads a program from its persistent XLA cache:
# it tries the file as text before reading it as binary, and compares the
# CPU features the program was compiled for with the host's, listing both.
_CACHE_LOAD_LOG = re.compile(
    r"^(E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ (text_format\.cc:\d+\] Error parsing text-format "
    r"tensorflow\.XlaSerializedCacheEntry|cpu_aot_loader\.cc:\d+\] Loading XLA:CPU AOT result))"
)


#: The first TensorFlow whose XLA cache keys were seen to be stable across processes.
CACHE_FROM = (2, 21)


def _version(text):
    """(major, minor) of a version string such as "2.21.0" or "2.16.1"."""
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def xla_cache_directory():
    """The persistent XLA cache this process uses: ``$KERASREG_XLA_CACHE``/<key>, or None.

    Why: TensorFlow's ``--tf_xla_persistent_cache_directory`` flag (read from
    ``TF_XLA_FLAGS`` when TensorFlow first compiles with XLA) keeps compiled
    programs on disk, and a later process loads them instead of compiling
    again (whatever it traced before: see kerasreg._compat.tensorflow.stable_names,
    for TensorFlow's key includes the traced functions' names). Programs are
    machine code for this CPU and TensorFlow version, so the directory is
    one per TensorFlow version and CPU feature set (a cache
    shared across a cluster's different machines never runs another CPU's
    code). Fallback: none needed; without the flag, TensorFlow compiles.
    Only from TensorFlow ``CACHE_FROM`` on: TensorFlow 2.16.1 keys a program
    differently in each process (a second process compiled again and wrote
    new files), so there the cache would only fill the disk.
    """
    root = os.environ.get("KERASREG_XLA_CACHE")
    if not root or _version(tf.__version__) < CACHE_FROM:
        return None
    import hashlib
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        cpu = ""
    cpu = cpu or platform.processor() or platform.machine()
    key = hashlib.sha256(cpu.encode()).hexdigest()[:12]
    return os.path.join(os.path.expanduser(root), f"tf-{tf.__version__}-cpu-{key}")


_cache_used = []


def _start_with_cache(tensorflow):
    """Start the runtime with the XLA cache directory, if any, among its flags.

    TensorFlow reads ``TF_XLA_FLAGS`` once, as its runtime starts and runs
    its first function: the flag is added for these and the variable
    restored at once. Where the user's code started TensorFlow before the
    first fit, the flags were read without it and nothing is cached. A
    directory that cannot be the cache (see kerasreg._xla_cache.problem) is
    not used, with a warning; what TensorFlow must not load is removed first.
    """
    cache = xla_cache_directory()
    if cache is None and os.environ.get("KERASREG_XLA_CACHE"):
        warnings.warn(
            f"KERASREG_XLA_CACHE is not used with TensorFlow {tensorflow.__version__}: "
            "before 2.21 TensorFlow keys a compiled program differently in each process, "
            "so a cache would only fill the disk. Upgrade TensorFlow to use it.",
            UserWarning,
            stacklevel=2,
        )
    if cache is not None:
        reason = _xla_cache.problem(cache)
        if reason is not None:
            warnings.warn(
                f"KERASREG_XLA_CACHE is not used: {reason}: {cache}. Point it at a "
                "directory of your own that only you can write to, or unset it; fits "
                "compile as without it.",
                UserWarning,
                stacklevel=2,
            )
            cache = None
    if cache is None:
        tensorflow.config.list_logical_devices()
        return
    _xla_cache.check(cache)
    saved = os.environ.get("TF_XLA_FLAGS")
    flag = f"--tf_xla_persistent_cache_directory={cache}"
    os.environ["TF_XLA_FLAGS"] = f"{saved} {flag}" if saved else flag
    try:
        tensorflow.config.list_logical_devices()
        tensorflow.function(lambda: tensorflow.constant(0), autograph=False)()
        _cache_used.append(cache)
    finally:
        if saved is None:
            os.environ.pop("TF_XLA_FLAGS", None)
        else:
            os.environ["TF_XLA_FLAGS"] = saved


def trace_cache_directory():
    """Where traced programs are kept (kerasreg._trace_cache): the XLA cache's ``traces``, or None.

    Only where this process uses the XLA cache (see _start_with_cache), and
    only a folder as private as the cache (kerasreg._xla_cache.problem).
    """
    if not _cache_used:
        return None
    if not _traces_checked:
        folder = os.path.join(_cache_used[0], "traces")
        _traces_checked.append(None if _xla_cache.problem(folder) else folder)
    return _traces_checked[0]


_traces_checked = []


class CacheError(RuntimeError):
    """TensorFlow could not read a program from the persistent XLA cache."""


def _unreadable(cache, error):
    """CacheError's message; the program TensorFlow names (if it does) is removed."""
    first_line = error.message.splitlines()[0] if error.message else ""
    named = [p for p in re.findall(r"\S+", first_line) if p.startswith(cache + os.sep)]
    for path in named:
        _xla_cache.forget(path)
    removed = set(named) | set(_xla_cache.check(cache))
    what = f"removed {len(removed)} damaged file(s)" if removed else f"delete {cache} if it recurs"
    return (
        f"TensorFlow could not read a compiled program from the XLA cache "
        f"(KERASREG_XLA_CACHE) in {cache}: {type(error).__name__}: {first_line[:300]}. "
        f"kerasreg {what}; TensorFlow keeps the failure for this process, so restart "
        "Python to fit this network with XLA again (or set jit_compile=False now)."
    )


@contextlib.contextmanager
def xla_call_quietly(xla, new):
    """A context for a program call: an XLA compilation or cache load without its logs.

    XLA logs four info lines when it first compiles in a process ("XLA
    service ... initialized", "Compiled cluster using XLA!") and, loading
    from the persistent cache, two error lines that are not errors (see
    _CACHE_LOAD_LOG), whatever ``TF_CPP_MIN_LOG_LEVEL`` says: held like the
    start-up messages, for the process's first XLA call and, with a cache,
    for each call that may compile or load (``new``). Around such a call the
    cache is checked before (nothing unsealed or changed is left for
    TensorFlow to load) and what TensorFlow wrote is sealed after (see
    kerasreg._xla_cache). Should TensorFlow still fail to read a program
    (another process damaged it meanwhile), CacheError says what to do.
    """
    first = xla and not _xla_started
    cache = _cache_used[0] if xla and new and _cache_used else None
    if not (first or cache):
        yield
        return
    _xla_started.append(True)
    if cache:
        _xla_cache.check(cache)
    with _held_stderr():
        try:
            yield
        except (tf.errors.DataLossError, tf.errors.OutOfRangeError) as e:
            if not cache:
                raise
            raise CacheError(_unreadable(cache, e)) from e
    if cache:
        _xla_cache.seal(cache)


def import_quietly(name="tensorflow"):
    """Import a module that may import TensorFlow, without TensorFlow's start-up messages.

    ``name`` is ``"tensorflow"``, or ``"keras"`` (which imports TensorFlow
    when it is the Keras backend). TensorFlow logs from C++ while loading,
    before ``TF_CPP_MIN_LOG_LEVEL`` applies: held here (see _held_stderr).
    The environment is left as it was.
    """
    if "tensorflow" in sys.modules:
        return importlib.import_module(name)
    with _held_stderr(), _without_keras(name == "tensorflow"):
        return importlib.import_module(name)


class _KerasSkipped:
    """A meta-path finder: in one thread, ``keras`` is found where it is but does not load.

    TensorFlow's ``__init__`` asks where Keras is (``importlib.util.find_spec``,
    for ``tf.keras``'s lazy loader) and, at its end, imports
    ``keras.src.optimizers`` inside ``try/except ImportError``. For the thread
    that imports TensorFlow, this finder gives Keras's own spec with a loader
    that raises ImportError, so TensorFlow skips Keras as if it were not
    installed. Every other thread finds and loads Keras as usual.
    """

    def __init__(self):
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name != "keras" or threading.get_ident() != self.thread:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = self
                return spec
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ModuleNotFoundError(
            "keras is not loaded while kerasreg imports TensorFlow", name="keras"
        )


@contextlib.contextmanager
def _without_keras(active=True):
    """Import TensorFlow without the Keras it loads as it imports, where Keras isn't loaded.

    Why: ``import tensorflow`` ends by importing Keras 3 whole (measured with
    scikit-learn already loaded, 2 cores: 7.8-8.0 s with it, 6.1-6.7 s
    without), and a fit without Keras callbacks never uses Keras. For the
    duration of TensorFlow's import, in the importing thread only, Keras
    does not load (see _KerasSkipped); a later ``import keras`` or
    ``tf.keras``, or one in another thread meanwhile, loads Keras as usual
    (its SavedModel registrations with it). Nothing changes where Keras is
    loaded or loading already.
    """
    if not active or "keras" in sys.modules:
        yield
        return
    finder = _KerasSkipped()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


_started = []
_start_lock = threading.Lock()


def start_quietly(configure):
    """Start TensorFlow's runtime once, after ``configure()``, without its device-probe messages.

    The runtime probes for CUDA as it starts (an error line on a machine
    without a GPU); ``configure`` runs first, while settings such as the
    thread pools can still change.
    """
    with _start_lock:
        if _started:
            return
        _started.append(True)
        with _held_stderr():
            import tensorflow

            configure()
            _start_with_cache(tensorflow)
