"""Calling a plain-graph program with one thread per operation: through a tf.data iterator.

Why: TensorFlow splits an operation across its intra-op thread pool by a
cost model that, for Adam's fused update (``ResourceApplyAdam``, from 1,024
weights) and the small products of a small network's step, hands part of
the work to another thread and waits for it. On two cores that wait, not
the arithmetic, is most of a small step's time
(``python -m benchmarks.probes.op_handoffs``): a 64x2 epoch in batches of
32 took 5.2 ms, against 1.6 ms with one thread per operation. TensorFlow's
pools are process-wide and fixed when its runtime starts
(``tf.config.threading``), so one thread for the whole process would slow
the large networks that do gain from the pool (3x512 in batches of 256,
by ~20%). tf.data's ``threading.max_intra_op_parallelism`` is the one
public switch that runs a computation's operations at parallelism 1 and
leaves the rest of the process alone: it applies to the functions a
dataset runs. So the program runs as the map function of an endless
dataset that takes each call's inputs from a queue: put the inputs, take
the next element. Same graph, same kernels, same results bit for bit
(tested); the iterator is made once per program, its queue holds one call's
inputs (tensors, not copies).
"""

import tensorflow as tf


def _options():
    options = tf.data.Options()
    options.threading.max_intra_op_parallelism = 1
    # Nothing ahead of the caller: no prefetching thread would run a call early.
    options.autotune.enabled = False
    options.experimental_optimization.apply_default_optimizations = False
    options.experimental_optimization.inject_prefetch = False
    return options


class SerialProgram:
    """``program(*inputs)``, run with one thread per operation (see the module's docstring).

    Parameters
    ----------
    program : callable
        A callable of tensors (a traced or defined program) returning a list
        or tuple of tensors.
    signature : sequence of tf.TensorSpec
        The program's inputs (their dtypes).
    """

    def __init__(self, program, signature):
        self._program = program
        self._dtypes = [spec.dtype for spec in signature]
        self._queue = self._iterator = None

    def _start(self):
        queue = tf.queue.FIFOQueue(1, self._dtypes)
        program = self._program

        @tf.autograph.experimental.do_not_convert
        def run(_):
            inputs = queue.dequeue()  # a tensor where there is one input
            outputs = program(*(inputs if isinstance(inputs, list | tuple) else [inputs]))
            return tuple(outputs) if isinstance(outputs, list | tuple) else (outputs,)

        dataset = tf.data.Dataset.from_tensors(0).repeat().map(run)
        self._queue, self._iterator = queue, iter(dataset.with_options(_options()))

    def __call__(self, *inputs):
        if self._iterator is None:
            self._start()
        try:
            self._queue.enqueue(list(inputs))
            return list(next(self._iterator))
        except BaseException:
            # An error, or Ctrl-C between putting the inputs and taking the
            # result: a new queue and iterator for the next call, so that no
            # call finds another's inputs (or a full queue, and waits forever).
            self._queue = self._iterator = None
            raise
