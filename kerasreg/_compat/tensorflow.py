"""TensorFlow's private and experimental API, fenced in.

Importing this module does not import TensorFlow (kerasreg._fork reads
:func:`runtime_started` at every fork); the functions import it when called.
"""

import sys
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
# Traced functions' names (tensorflow.python.eager.polymorphic_function and
# tensorflow.python.ops.control_flow_util_v2, private)
# --------------------------------------------------------------------------- #

_names_lock = threading.RLock()
_names_seen = {}  # stable prefix -> how many traces in this process used it
_names_local = threading.local()


def _stable_namer(original):
    def name(*args):
        state = getattr(_names_local, "state", None)
        if state is None:  # another thread's trace, or none of ours: TensorFlow's own names
            return original(*args)
        state[1] += 1
        text = original(*args)
        # TensorFlow's names end in "_<process-wide counter>"; ours in a counter of this trace.
        return f"{text.rpartition('_')[0]}_{state[0]}n{state[1]}"

    name.kerasreg_original = original
    return name


_NAMERS = (
    ("tensorflow.python.eager.polymorphic_function.concrete_function", "_inference_name"),
    ("tensorflow.python.eager.polymorphic_function.concrete_function", "_forward_name"),
    ("tensorflow.python.eager.polymorphic_function.concrete_function", "_backward_name"),
    ("tensorflow.python.ops.control_flow_util_v2", "unique_fn_name"),
    ("tensorflow.python.ops.control_flow_util_v2", "unique_grad_fn_name"),
)


def _install_namers():
    import importlib

    installed = []
    for module_name, attribute in _NAMERS:
        try:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
        except (ImportError, AttributeError):
            return False
        installed.append((module, attribute, original))
    for module, attribute, original in installed:
        if not hasattr(original, "kerasreg_original"):
            setattr(module, attribute, _stable_namer(original))
    return True


class stable_names:
    """Inside the block, this thread's traces name their functions after key, not a counter.

    Why: TensorFlow names a traced function (and each loop body in it) with a
    number counted across the process (``__inference__epochs_825``), and its
    persistent XLA cache keys a program by those names; so a later process
    reused a program only if it traced the same functions in the same order.
    Named after key (and how many traces of key this process made before, so
    that names stay unique in the process), the same program gets the same
    names in any process. Fallback: where TensorFlow's naming functions are
    missing, names are TensorFlow's own (the cache then hits only in the same
    trace order).
    """

    def __init__(self, key, draft=False):
        import hashlib

        self.prefix = "k" + hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        self.draft = draft
        self.final = None  # the names' stem, once entered

    def __enter__(self):
        _names_lock.acquire()
        if getattr(_names_local, "state", None) is not None or not _install_namers():
            self.state = None
            return self
        seen = _names_seen.get(self.prefix, 0)
        _names_seen[self.prefix] = seen + 1
        self.final = f"{self.prefix}x{seen}"
        # A draft's names differ from the final ones only in this stem
        # (see export_function's rename).
        stem = f"{self.prefix}d{seen}" if self.draft else self.final
        self.state = _names_local.state = [stem, 0]
        return self

    @property
    def first(self):
        """Whether this block names key's first trace in the process (the same names in any)."""
        return self.final is not None and self.final.endswith("x0")

    @property
    def stem(self):
        """The stem of the names this block's traces get (a draft's or the final one)."""
        return None if self.state is None else self.state[0]

    def __exit__(self, *exc):
        if self.state is not None:
            _names_local.state = None
        _names_lock.release()


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
