"""TensorFlow's private and experimental API, fenced in.

Importing this module does not import TensorFlow (kerasreg._fork reads
:func:`runtime_started` at every fork); the functions import it when called.
"""

import contextlib
import importlib
import os
import re
import sys
import tempfile
import threading

from .._lazy import LazyModule

tf = LazyModule("tensorflow")

# --------------------------------------------------------------------------- #
# The eager context (tensorflow.python.eager.context, private)
# --------------------------------------------------------------------------- #


def runtime_started():
    """Whether TensorFlow's runtime (its thread pools) started in this process.

    Why: a process forked after that point hangs at its first TensorFlow
    operation (see kerasreg._fork). Fallback: where the attribute is missing,
    assume it started (the fork check then errs on the side of an error).
    Does not import TensorFlow.
    """
    context = sys.modules.get("tensorflow.python.eager.context")
    if context is None:
        return False
    ctx = context.context_safe()
    return ctx is not None and bool(getattr(ctx, "_initialized", True))


_grappler_lock = threading.Lock()
_grappler_off = []  # [(context, options)] once computed; [None] where unavailable


def _options_without_grappler():
    try:
        from tensorflow.core.protobuf import config_pb2
        from tensorflow.python.eager import context

        ctx = context.context()
        current = ctx.function_call_options
        config = config_pb2.ConfigProto.FromString(current.config_proto_serialized)
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        return ctx, context.FunctionCallOptions(current.executor_type, config)
    except Exception:  # noqa: BLE001 - an internal API: fall back to the default
        return None


def grappler_switch_available():
    """Whether :class:`without_grappler` can switch Grappler off (the internal API is there)."""
    with _grappler_lock:
        if not _grappler_off:
            _grappler_off.append(_options_without_grappler())
        return _grappler_off[0] is not None


class without_grappler:
    """Run the enclosed TensorFlow function calls without Grappler's graph rewrites.

    Why: Grappler rewrites each graph on its first call, ~0.25 s for an epochs
    program (a third of a small first fit), for no gain in these small
    programs; TensorFlow's only public switch is process-wide
    (``tf.config.optimizer``), the per-thread call options of the eager
    context are private. Fallback: where they differ, Grappler runs as usual
    (same results, a slower first call). With ``enabled=False`` it does nothing.
    """

    def __init__(self, enabled=True):
        self.enabled = enabled

    def __enter__(self):
        self.saved = None
        if self.enabled and grappler_switch_available():
            ctx, options = _grappler_off[0]
            self.saved = ctx.function_call_options
            ctx.function_call_options = options

    def __exit__(self, *exc):
        if self.saved is not None:
            _grappler_off[0][0].function_call_options = self.saved


def function_call_options():
    """The calling thread's function-call options, serialized (to check they are left alone)."""
    from tensorflow.python.eager import context

    return context.context().function_call_options.config_proto_serialized


# --------------------------------------------------------------------------- #
# Raw kernels (tf.raw_ops: public but unversioned, one op per kernel)
# --------------------------------------------------------------------------- #

_use_kernels = [True]


def _has(op):
    return _use_kernels[-1] and hasattr(getattr(tf, "raw_ops", None), op)


class fallbacks:
    """Inside a ``with`` block, the raw-kernel functions run their fallbacks (to test them)."""

    def __enter__(self):
        _use_kernels.append(False)

    def __exit__(self, *exc):
        _use_kernels.pop()


def relu_grad(g, a):
    """ReLU's backward pass from its output a (why: TensorFlow's own gradient kernel)."""
    if _has("ReluGrad"):
        return tf.raw_ops.ReluGrad(gradients=g, features=a)
    return tf.where(a > 0, g, tf.zeros_like(g))  # fallback: the same arithmetic


def tanh_grad(g, a):
    """tanh's backward pass from its output a."""
    if _has("TanhGrad"):
        return tf.raw_ops.TanhGrad(y=a, dy=g)
    return g * (1.0 - a * a)


def sigmoid_grad(g, a):
    """sigmoid's backward pass from its output a."""
    if _has("SigmoidGrad"):
        return tf.raw_ops.SigmoidGrad(y=a, dy=g)
    return g * a * (1.0 - a)


def elu_grad(g, a):
    """elu's backward pass from its output a."""
    if _has("EluGrad"):
        return tf.raw_ops.EluGrad(gradients=g, outputs=a)
    return tf.where(a < 0, g * (a + 1.0), g)


def selu_grad(g, a):
    """selu's backward pass from its output a."""
    if _has("SeluGrad"):
        return tf.raw_ops.SeluGrad(gradients=g, outputs=a)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return tf.where(a < 0, g * (a + scale * alpha), g * scale)


def softplus_grad(g, z):
    """softplus's backward pass from its input z."""
    if _has("SoftplusGrad"):
        return tf.raw_ops.SoftplusGrad(gradients=g, features=z)
    return g * tf.sigmoid(z)


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad):
    """Adam's update in place, in TensorFlow's fused kernel (why: one op per variable).

    Fallback: the same update in separate operations.
    """
    if _has("ResourceApplyAdam"):
        return tf.raw_ops.ResourceApplyAdam(
            var=var.handle, m=m.handle, v=v.handle, beta1_power=beta1_power,
            beta2_power=beta2_power, lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, grad=grad,
        )  # fmt: skip
    alpha = lr * tf.sqrt(1.0 - beta2_power) / (1.0 - beta1_power)
    m.assign_add((grad - m) * (1.0 - beta1))
    v.assign_add((tf.square(grad) - v) * (1.0 - beta2))
    return var.assign_sub(alpha * m / (tf.sqrt(v) + epsilon))


def apply_rmsprop(var, ms, mom, lr, rho, epsilon, grad):
    """RMSprop's update (no momentum) in TensorFlow's fused kernel; fallback: separate ops."""
    if _has("ResourceApplyRMSProp"):
        return tf.raw_ops.ResourceApplyRMSProp(
            var=var.handle, ms=ms.handle, mom=mom.handle, lr=lr, rho=rho, momentum=0.0,
            epsilon=epsilon, grad=grad,
        )  # fmt: skip
    ms.assign(ms * rho + tf.square(grad) * (1.0 - rho))
    return var.assign_sub(lr * grad / tf.sqrt(ms + epsilon))


def apply_gradient_descent(var, lr, grad):
    """Plain SGD's update in TensorFlow's kernel; fallback: assign_sub."""
    if _has("ResourceApplyGradientDescent"):
        return tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=lr, delta=grad)
    return var.assign_sub(lr * grad)


# --------------------------------------------------------------------------- #
# Experimental APIs (tf.nn.experimental, tf.experimental.dlpack)
# --------------------------------------------------------------------------- #


def stateless_dropout(h, rate, seed):
    """What keras.layers.Dropout computes, from an explicit seed.

    Why: the dropout masks are a function of (layer seed, step), reproducible
    in a compiled program. Fallback: the same mask rule from
    ``tf.random.stateless_uniform`` (other random numbers: other masks).
    """
    experimental = getattr(tf.nn, "experimental", None)
    if _use_kernels[-1] and hasattr(experimental, "stateless_dropout"):
        return experimental.stateless_dropout(h, rate=rate, seed=seed)
    keep = tf.random.stateless_uniform(tf.shape(h), seed=seed) >= rate
    return tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))


def shared_tensor(array):
    """A tensor sharing a 64-byte-aligned NumPy array's memory (DLPack), or a copy.

    Why: ``tf.convert_to_tensor`` copies the data (twice over for large
    arrays). Fallback: a copy.
    """
    dlpack = getattr(getattr(tf, "experimental", None), "dlpack", None)
    if dlpack is not None:
        try:
            return dlpack.from_dlpack(array.__dlpack__())
        except (AttributeError, TypeError, ValueError):
            pass
    return tf.constant(array)


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

# Lines TensorFlow logs as it loads a program from its persistent XLA cache:
# it tries the file as text before reading it as binary, and compares the
# CPU features the program was compiled for with the host's, listing both.
_CACHE_LOAD_LOG = re.compile(
    r"^(E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ (text_format\.cc:\d+\] Error parsing text-format "
    r"tensorflow\.XlaSerializedCacheEntry|cpu_aot_loader\.cc:\d+\] Loading XLA:CPU AOT result))"
)


def xla_cache_directory():
    """The persistent XLA cache this process uses: ``$KERASREG_XLA_CACHE``/<key>, or None.

    Why: TensorFlow's ``--tf_xla_persistent_cache_directory`` flag (read from
    ``TF_XLA_FLAGS`` when TensorFlow first compiles with XLA) keeps compiled
    programs on disk, and a later process loads them instead of compiling
    again. Programs are machine code for this CPU and TensorFlow version, so
    the directory is one per TensorFlow version and CPU feature set (a cache
    shared across a cluster's different machines never runs another CPU's
    code). Fallback: none needed; without the flag, TensorFlow compiles.
    """
    root = os.environ.get("KERASREG_XLA_CACHE")
    if not root:
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
    first fit, the flags were read without it and nothing is cached.
    """
    cache = xla_cache_directory()
    if cache is None:
        tensorflow.config.list_logical_devices()
        return
    os.makedirs(cache, exist_ok=True)
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


def xla_call_quietly(xla, new):
    """A context for a program call: an XLA compilation or cache load without its logs.

    XLA logs four info lines when it first compiles in a process ("XLA
    service ... initialized", "Compiled cluster using XLA!") and, loading
    from the persistent cache, two error lines that are not errors (see
    _CACHE_LOAD_LOG), whatever ``TF_CPP_MIN_LOG_LEVEL`` says: held like the
    start-up messages, for the process's first XLA call and, with a cache,
    for each call that may compile or load (``new``).
    """
    first = xla and not _xla_started
    if not (first or (xla and new and _cache_used)):
        return contextlib.nullcontext()
    _xla_started.append(True)
    return _held_stderr()


def import_quietly(name="tensorflow"):
    """Import a module that may import TensorFlow, without TensorFlow's start-up messages.

    ``name`` is ``"tensorflow"``, or ``"keras"`` (which imports TensorFlow
    when it is the Keras backend). TensorFlow logs from C++ while loading,
    before ``TF_CPP_MIN_LOG_LEVEL`` applies: held here (see _held_stderr).
    The environment is left as it was.
    """
    if "tensorflow" in sys.modules:
        return importlib.import_module(name)
    with _held_stderr():
        return importlib.import_module(name)


_started = []


def start_quietly(configure):
    """Start TensorFlow's runtime once, after ``configure()``, without its device-probe messages.

    The runtime probes for CUDA as it starts (an error line on a machine
    without a GPU); ``configure`` runs first, while settings such as the
    thread pools can still change.
    """
    with _grappler_lock:
        if _started:
            return
        _started.append(True)
        with _held_stderr():
            import tensorflow

            configure()
            _start_with_cache(tensorflow)
