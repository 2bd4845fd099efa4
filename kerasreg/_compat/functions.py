"""Traced functions' definitions: read from a trace, defined and called by name.

TensorFlow's eager context (``tensorflow.python.eager.context``: its function
registry and calls by name) is private; ``ConcreteFunction.function_def`` and
``captured_inputs`` are public. Used by kerasreg._engine.traced for the trace
cache (kerasreg._trace_cache). Importing this module does not import TensorFlow.
"""


def export_function(concrete, rename):
    """What this or a later process needs to define and call a traced function by name.

    ``(name, library, inputs, outputs, captured)``: the function's name, its
    definition and those of the functions it calls (a serialized
    FunctionDefLibrary), how many inputs it takes (its arguments then what it
    captured), how many outputs it returns, and the tensors it captured (for
    a workspace's programs, its variables' handles). ``rename = (old, new)``
    replaces ``old`` by ``new`` in the names of these functions (a draft's
    stem by the final one, see kerasreg._compat.tensorflow.stable_names).

    Why the rename: a function defined from its definition has no Python
    stack traces, a traced one has them, and XLA's compiled programs (and so
    the persistent XLA cache's keys) differ between the two; defined alike
    in every process, under the final names, a program gets the same XLA key
    whether this process traced it or read its trace. Fallback: None where
    the definitions cannot be read (the traced function then runs as it is).
    """
    try:
        return _export_function(concrete, rename)
    except Exception:  # noqa: BLE001 - an internal API: run the traced function instead
        return None


def _export_function(concrete, rename):
    from tensorflow.core.framework import function_pb2

    fdef = concrete.function_def
    library = function_pb2.FunctionDefLibrary()
    library.function.extend(concrete.graph.as_graph_def().library.function)
    library.function.append(fdef)
    names = {f.signature.name for f in library.function}
    old, new = rename

    def fix(name):
        return name.replace(old, new) if name in names else name

    for f in library.function:
        f.signature.name = fix(f.signature.name)
        for node in f.node_def:
            node.op = fix(node.op)
            for value in node.attr.values():
                if value.HasField("func"):
                    value.func.name = fix(value.func.name)
                for function in value.list.func:
                    function.name = fix(function.name)
    signature = fdef.signature
    return (
        fix(signature.name), library.SerializeToString(), len(signature.input_arg),
        len(signature.output_arg), list(concrete.captured_inputs),
    )  # fmt: skip


def define_functions(library, name, inputs, outputs):
    """Define the functions of a serialized FunctionDefLibrary in TensorFlow's eager context.

    Why: defining a traced function from its definition takes milliseconds,
    tracing it again a tenth of a second or more; the context's function
    registry is private. Those already defined (by name) are left as they
    are. Raises ValueError where library does not parse or its function
    ``name`` does not take ``inputs`` inputs and return ``outputs`` outputs.
    """
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework import function_pb2
    from tensorflow.python.eager import context

    try:
        functions = function_pb2.FunctionDefLibrary.FromString(library).function
    except DecodeError as e:
        raise ValueError(f"not a function library: {e}") from e
    shapes = [(len(f.signature.input_arg), len(f.signature.output_arg)) for f in functions
              if f.signature.name == name]  # fmt: skip
    if shapes != [(inputs, outputs)]:
        raise ValueError(f"no function {name} of {inputs} inputs and {outputs} outputs")
    ctx = context.context()
    try:
        for fdef in functions:
            if not ctx.has_function(fdef.signature.name):
                ctx.add_function_def(fdef)
    except Exception as e:  # noqa: BLE001 - an internal API, or a definition TensorFlow refuses
        raise ValueError(f"TensorFlow did not take the definitions: {e}") from e


def call_function(name, inputs, outputs):
    """Call a function defined in the eager context by name: its outputs as a list (None: none).

    With the calling thread's function-call options, as a traced function's
    call (see kerasreg._compat.tensorflow.without_grappler). In a graph being
    traced (a tf.data function, see kerasreg._engine.serial): a call operation
    of the function, its outputs' types from its definition.
    """
    from tensorflow.python.eager import context

    if context.executing_eagerly():
        return context.context().call_function(name.encode(), list(inputs), outputs)
    import tensorflow as tf

    signature = context.context().get_function_def(name).signature
    types = [tf.dtypes.as_dtype(arg.type) for arg in signature.output_arg]
    return tf.raw_ops.StatefulPartitionedCall(args=list(inputs), Tout=types, f=name)
