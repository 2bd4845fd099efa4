"""The update rules: one step of each optimizer on the workspace's variables.

The same arithmetic as the Keras optimizers of the same names on
TensorFlow, through TensorFlow's fused kernels (see kerasreg._compat.tensorflow);
the hyper-parameters are the Keras defaults recorded in kerasreg._registry.
Each rule takes ``(variables, gradients, slots, step, lr, hyper)``: the
trained variables, their gradients, the optimizer's state (one list of
variables per slot), the step number (from 1), the learning rate and the
hyper-parameters, and applies the step in place.
"""

import tensorflow as tf

from .._compat import tensorflow as tf_compat


def _constants(hyper, *names):
    # Hyper-parameters as tensors once, rather than a constant per variable.
    return (tf.constant(hyper.get(name, 0.0), tf.float32) for name in names)


def adam(variables, grads, slots, step, lr, hyper):
    beta_1, beta_2, epsilon = _constants(hyper, "beta_1", "beta_2", "epsilon")
    beta1_power, beta2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
    for v, g, m, s in zip(variables, grads, *slots):
        tf_compat.apply_adam(v, m, s, beta1_power, beta2_power, lr, beta_1, beta_2, epsilon, g)


def adamw(variables, grads, slots, step, lr, hyper):
    # Keras's AdamW: decoupled weight decay before Adam's step.
    beta_1, beta_2, epsilon = _constants(hyper, "beta_1", "beta_2", "epsilon")
    for v in variables:
        v.assign_sub(v * hyper["weight_decay"] * lr)
    beta1_power, beta2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
    for v, g, m, s in zip(variables, grads, *slots):
        tf_compat.apply_adam(v, m, s, beta1_power, beta2_power, lr, beta_1, beta_2, epsilon, g)


def rmsprop(variables, grads, slots, step, lr, hyper):
    (epsilon,) = _constants(hyper, "epsilon")
    for v, g, ms, mom in zip(variables, grads, *slots):
        tf_compat.apply_rmsprop(v, ms, mom, lr, hyper["rho"], epsilon, g)


def sgd(variables, grads, slots, step, lr, hyper):
    for v, g in zip(variables, grads):
        tf_compat.apply_gradient_descent(v, lr, g)
