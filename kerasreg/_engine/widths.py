"""Hidden widths padded to a few sizes for XLA: a search's many widths share its programs.

XLA compiles a program again for each new shape, and TensorFlow keeps every
compilation for the life of the process (~4 MB and ~200 memory mappings
each). A search over widths 4 to 64 would compile once per width; padded to
the sizes of :func:`bucket` (64 for all of them) it compiles once.

The padding is exact in what the network computes: a padded unit has zero
incoming weights and bias, so its pre-activation is 0 and its activation
``f(0) = 0`` (the activations padded are those with ``f(0) = 0``); its zero
outgoing weights add nothing to the next layer. Its gradients are zero too
(its outgoing weights' gradient is its activation times the next layer's, and
its incoming weights' gradient its outgoing weights times the rest), so every
update rule leaves its weights at zero, and the real units train as in the
network of the real widths. Batch normalisation keeps a padded unit at zero
(its beta is zero and gets no gradient). The matrix products' sums run over
a different number of zeros, so results may differ from an unpadded program's
in the last bits, as XLA's differ from a plain graph's. Dropout is not padded:
its random masks are drawn for the layer's shape.
"""

import dataclasses

import numpy as np

from .._registry import ACTIVATIONS
from .config import settings


def bucket(width, small=True):
    """The padded size of a hidden width: up to 64, 64 (or a power of two); then a multiple of 32.

    Under XLA a small network's step costs about the same whatever its width
    up to 64, so in a small network (``small``, see padded_spec) every width
    up to 64 runs as 64 and a search over them compiles once per depth
    (measured, red wine in batches of 32, 30 epochs: 16 units 0.51 ms per
    epoch, 64 units 0.61; 16x3 1.02, 64x3 1.19, against about a second to
    compile each). Otherwise a width up to 64 is padded to the next power of
    two (at most twice the units). Above 64, the next multiple of 32 (at most
    50% more units, 6% from 512 on), since there a wider step costs more.

    >>> [bucket(w) for w in (1, 5, 16, 33, 64, 65, 100, 512)]
    [64, 64, 64, 64, 64, 96, 128, 512]
    >>> [bucket(w, small=False) for w in (1, 5, 16, 33, 64, 65)]
    [4, 8, 16, 64, 64, 96]
    """
    if width <= 64:
        return 64 if small else max(4, 1 << (int(width) - 1).bit_length())
    return -(-int(width) // 32) * 32


def paddable(spec):
    """Whether spec's hidden layers can be padded exactly (see the module docstring)."""
    zero = ACTIVATIONS[spec.activation].numpy(np.zeros(1, np.float32))
    return spec.dropout == 0 and not np.any(zero) and bool(spec.hidden_layer_sizes)


def macs(spec):
    """Multiply-adds per row of spec's forward pass (its kernels' sizes)."""
    return sum(shape[0] * shape[1] for shape in spec.weight_shapes() if len(shape) == 2)


def padded_spec(spec):
    """The spec the program runs: spec with bucketed widths, where that is exact.

    Widths up to 64 run as 64 where the padded network stays small (at most
    ``settings.pad_small_macs`` multiply-adds per row, or twice spec's own):
    with many inputs, 64 units could cost many times a narrow layer's step.
    """
    if not settings.pad_widths or not paddable(spec):
        return spec

    def padded(small):
        sizes = tuple(bucket(w, small) for w in spec.hidden_layer_sizes)
        return dataclasses.replace(spec, hidden_layer_sizes=sizes)

    wide = padded(small=True)
    if macs(wide) <= max(settings.pad_small_macs, 2 * macs(spec)):
        return wide
    return padded(small=False)


def trainable_shapes(spec):
    """Shapes of the trained variables (the weights without batch norm's moving statistics)."""
    shapes = spec.weight_shapes()
    if not spec.batch_norm:
        return shapes
    keep = []
    for layer in range(len(spec.hidden_layer_sizes)):
        kernel, bias, gamma, beta = shapes[6 * layer : 6 * layer + 4]
        keep += [kernel, bias, gamma, beta]
    return keep + shapes[-2:]


def pad(arrays, shapes):
    """Arrays zero-padded at the end of each axis to shapes (no copy where equal)."""
    out = []
    for a, shape in zip(arrays, shapes):
        a = np.asarray(a)
        if a.shape != tuple(shape):
            a = np.pad(a, [(0, s - d) for d, s in zip(a.shape, shape)])
        out.append(a)
    return out


def unpad(arrays, shapes):
    """The leading block of each array, of the given shapes (a copy where smaller)."""
    out = []
    for a, shape in zip(arrays, shapes):
        a = np.asarray(a)
        if a.shape != tuple(shape):
            a = a[tuple(slice(0, s) for s in shape)].copy()
        out.append(a)
    return out


class Padding:
    """Weights and optimizer slots between the network's shapes and the program's."""

    def __init__(self, spec, run_spec):
        self.weights, self.run_weights = spec.weight_shapes(), run_spec.weight_shapes()
        self.slots, self.run_slots = trainable_shapes(spec), trainable_shapes(run_spec)

    def pad(self, weights):
        return pad(weights, self.run_weights)

    def unpad(self, weights):
        return unpad(weights, self.weights)

    def pad_slots(self, slots):
        return [pad(slot, self.run_slots) for slot in slots]

    def unpad_slots(self, slots):
        return [unpad(slot, self.slots) for slot in slots]
