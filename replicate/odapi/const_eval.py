"""Values of a frozen graph's tensors that depend on constants only, computed
in numpy without TensorFlow: how the port reads the anchors a TF1 export
computes in its graph (``MultipleGridAnchorGenerator/...`` ops of constants,
concatenated in ``Concatenate/concat``).

Only the pure array ops such a subgraph is made of are evaluated
(:data:`OPS`: casts, float32 arithmetic, ``Sqrt``, ``Range``, reshapes,
tiling, slicing, concatenation); any other op on the way is refused, naming
it. Arithmetic is float32 element by element as TF does it (``+ - * /`` and
``sqrt`` are correctly rounded in both), so the result equals TF's bit for bit
(checked against TensorFlow in the tests). The work is bounded: at most
:data:`MAX_NODES` nodes and :data:`MAX_ELEMENTS` elements in all.
"""
import numpy as np

from replicate.odapi.errors import ExportError
from replicate.odapi.frozen_graph import source

MAX_NODES = 20000
MAX_ELEMENTS = 32 * 1024 * 1024
#: TF dtype enum -> numpy dtype, for ``Cast`` / ``Range`` / ``Shape``.
_NUMPY = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_}


def _dtype(attr, where):
    if attr is None or attr.type not in _NUMPY:
        raise ExportError('{}: dtype {} is not evaluated here'.format(
            where, None if attr is None else attr.type))
    return _NUMPY[attr.type]


def _binary(function):
    def run(node, args):
        a, b = args
        if a.dtype != b.dtype:
            raise ExportError('{}: operands of {} and {}'.format(node.name, a.dtype, b.dtype))
        return function(a, b).astype(a.dtype, copy=False)
    return run


def _strided_slice(node, args):
    value, begin, end, strides = args
    for mask in ('ellipsis_mask', 'new_axis_mask'):
        if node.attr[mask].i:
            raise ExportError('{}: StridedSlice with {} is not evaluated here'.format(
                node.name, mask))
    index = []
    for axis, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist(),
                                         strict=True)):
        if node.attr['shrink_axis_mask'].i >> axis & 1:
            index.append(b)
            continue
        b = None if node.attr['begin_mask'].i >> axis & 1 else b
        e = None if node.attr['end_mask'].i >> axis & 1 else e
        index.append(slice(b, e, s))
    return np.asarray(value[tuple(index)])


def _slice(node, args):
    value, begin, size = args
    index = tuple(slice(b, None if s == -1 else b + s)
                  for b, s in zip(begin.tolist(), size.tolist(), strict=True))
    return value[index]


def _concat(node, args):
    return np.concatenate(args[:-1], axis=int(args[-1]))


#: op type -> function(node, list of input arrays) -> array.
OPS = {
    'Identity': lambda node, args: args[0],
    'Cast': lambda node, args: args[0].astype(_dtype(node.attr['DstT'], node.name)),
    'Add': _binary(np.add), 'AddV2': _binary(np.add), 'Sub': _binary(np.subtract),
    'Mul': _binary(np.multiply), 'RealDiv': _binary(np.divide),
    'Minimum': _binary(np.minimum), 'Maximum': _binary(np.maximum),
    'Sqrt': lambda node, args: np.sqrt(args[0]),
    'Range': lambda node, args: np.arange(args[0], args[1], args[2],
                                          dtype=_dtype(node.attr['Tidx'], node.name)),
    'Reshape': lambda node, args: args[0].reshape(args[1].tolist()),
    'Tile': lambda node, args: np.tile(args[0], args[1].tolist()),
    'Pack': lambda node, args: np.stack(args, axis=node.attr['axis'].i),
    'ConcatV2': _concat,
    'ExpandDims': lambda node, args: np.expand_dims(args[0], int(args[1])),
    'Slice': _slice,
    'StridedSlice': _strided_slice,
    'Fill': lambda node, args: np.full(args[0].tolist(), args[1], dtype=args[1].dtype),
    'Shape': lambda node, args: np.array(args[0].shape,
                                         dtype=_dtype(node.attr['out_type'], node.name)),
}


def evaluate(graph, tensor):
    """The value of ``tensor`` (a tensor name, output 0 of its node) of
    :class:`replicate.odapi.frozen_graph.FrozenGraph` ``graph``.

    Raises:
        ExportError: an op outside :data:`OPS` (or a placeholder) on the way,
            a node with several outputs used, or the bounds exceeded.
    """
    values, budget = {}, [0]
    stack = [source(tensor)]
    while stack:
        name = stack[-1]
        if name in values:
            stack.pop()
            continue
        node = graph.node(name)
        if node is None:
            raise ExportError('{}: node {} is missing'.format(graph.path, name))
        pending = [source(i) for i in graph.inputs(name) if source(i) not in values]
        if node.op != 'Const' and pending:
            stack.extend(pending)
            if len(stack) > MAX_NODES:
                raise ExportError('{}: {} depends on more than {} nodes'.format(
                    graph.path, tensor, MAX_NODES))
            continue
        values[name] = _run(graph, node, values)
        budget[0] += values[name].size
        if budget[0] > MAX_ELEMENTS or len(values) > MAX_NODES:
            raise ExportError('{}: computing {} takes more than {} elements or {} nodes'.format(
                graph.path, tensor, MAX_ELEMENTS, MAX_NODES))
        stack.pop()
    return values[source(tensor)]


def _run(graph, node, values):
    if node.op == 'Const':
        return graph.constant(node.name)
    if node.op not in OPS:
        raise ExportError('{}: {} is computed by a {} op, which is not evaluated here (only '
                          'constant arithmetic: {})'.format(graph.path, node.name, node.op,
                                                            ', '.join(sorted(OPS))))
    for name in graph.inputs(node.name):
        if ':' in name and not name.endswith(':0'):
            raise ExportError('{}: {} uses output {} (one output per op is evaluated '
                              'here)'.format(graph.path, node.name, name))
    try:
        return np.asarray(OPS[node.op](node, [values[source(i)]
                                              for i in graph.inputs(node.name)]))
    except ExportError:
        raise
    except Exception as exc:  # numpy shape errors and the like: a malformed graph
        raise ExportError('{}: cannot compute {} ({}): {}'.format(
            graph.path, node.name, node.op, exc)) from None
