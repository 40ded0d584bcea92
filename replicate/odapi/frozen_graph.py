"""A TF1 frozen ``GraphDef`` (``frozen_inference_graph.pb``) read as data.

The file is untrusted: it is size-checked before it is read
(:data:`MAX_GRAPH_BYTES`), parsed with TensorFlow's own protobuf class
(``tensorflow.core.framework.graph_pb2.GraphDef``: a message parser, nothing
in the file runs), and each constant is turned into a numpy array by
:func:`tensor_array`, which bounds its element count
(:data:`MAX_CONSTANT_ELEMENTS`; a ``TensorProto`` may declare a huge shape
with one repeated value) and checks its bytes against its shape. No graph is
imported into TensorFlow and no op is run here: weights, and the few
configuration values :mod:`replicate.odapi.graph_config` reads, are plain
constants (``Const`` nodes), looked up by name.

Every failure is an :class:`~replicate.odapi.errors.ExportError` of one line
naming the file.
"""
import collections
import os

import numpy as np

from replicate.errors import one_line
from replicate.odapi.errors import ExportError

#: Largest graph file read (bytes). OD API SSD exports are 5-100 MB;
#: protobuf itself stops at 2 GiB.
MAX_GRAPH_BYTES = 512 * 1024 * 1024
#: Largest constant turned into an array (elements): 64 Mi, 256 MB of float32.
MAX_CONSTANT_ELEMENTS = 64 * 1024 * 1024
#: The exporter's output nodes: a graph without them is not an OD API detection export.
OUTPUTS = ('detection_boxes', 'detection_scores', 'detection_classes', 'num_detections')
#: The exporter's input placeholders (``--input_type``): uint8 pixels, encoded
#: JPEG/PNG strings, serialized tf.Examples. The port reads only the network
#: behind them, so any of them will do.
INPUTS = ('image_tensor', 'encoded_image_string_tensor', 'tf_example')

#: TensorProto dtype enum -> (numpy dtype, the repeated field holding values).
_DTYPES = {1: (np.float32, 'float_val'), 2: (np.float64, 'double_val'),
           3: (np.int32, 'int_val'), 4: (np.uint8, 'int_val'), 5: (np.int16, 'int_val'),
           6: (np.int8, 'int_val'), 9: (np.int64, 'int64_val'), 10: (np.bool_, 'bool_val')}
_STRING = 7


def read_graph_def(path):
    """The parsed ``GraphDef`` of ``path``.

    Raises:
        ExportError: not a file, larger than :data:`MAX_GRAPH_BYTES`, not a
            binary GraphDef (truncated, another format), or without nodes.
    """
    if not os.path.isfile(path):
        raise ExportError('{} is not a file: pass a TF1 frozen_inference_graph.pb or the export '
                          'folder holding it'.format(path))
    size = os.path.getsize(path)
    if size > MAX_GRAPH_BYTES:
        raise ExportError('{} is {:.0f} MiB, more than the {} MiB a frozen graph may have here: '
                          'not an OD API SSD export'.format(path, size / 2 ** 20,
                                                            MAX_GRAPH_BYTES // 2 ** 20))
    from tensorflow.core.framework import graph_pb2
    graph_def = graph_pb2.GraphDef()
    with open(path, 'rb') as f:
        data = f.read(MAX_GRAPH_BYTES + 1)
    try:
        graph_def.ParseFromString(data)
    except Exception as exc:  # google.protobuf.message.DecodeError and friends
        raise ExportError('{} is not a TF GraphDef (truncated or another format): {}: {}'.format(
            path, type(exc).__name__, one_line(exc)[:200])) from None
    if not graph_def.node:
        raise ExportError('{} holds no graph nodes: not a TF frozen graph'.format(path))
    return graph_def


def tensor_array(tensor, where, limit=MAX_CONSTANT_ELEMENTS):
    """A ``TensorProto`` as a numpy array (strings: a numpy object array of bytes).

    Args:
        tensor: the ``TensorProto`` (a Const node's ``value`` attribute).
        where (str): the node and file, for messages.

    Raises:
        ExportError: unknown dtype, unknown or negative dimensions, more than
            ``limit`` elements, or values that do not fit the shape.
    """
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    if tensor.tensor_shape.unknown_rank or any(d < 0 for d in shape):
        raise ExportError('{}: constant of unknown shape {}'.format(where, shape))
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count > limit:
        raise ExportError('{}: constant of shape {} has {} elements, more than the {} '
                          'allowed'.format(where, shape, count, limit))
    if tensor.dtype == _STRING:
        values = list(tensor.string_val)
        return np.array((values + values[-1:] * count)[:count] if values else [b''] * count,
                        dtype=object).reshape(shape)
    if tensor.dtype not in _DTYPES:
        raise ExportError('{}: constant of dtype enum {} is not read here'.format(
            where, tensor.dtype))
    dtype, field = _DTYPES[tensor.dtype]
    if tensor.tensor_content:
        if len(tensor.tensor_content) != count * np.dtype(dtype).itemsize:
            raise ExportError('{}: {} bytes of data for a {} constant of shape {}'.format(
                where, len(tensor.tensor_content), np.dtype(dtype).name, shape))
        return np.frombuffer(tensor.tensor_content, dtype=dtype).reshape(shape).copy()
    values = np.asarray(getattr(tensor, field), dtype=dtype)
    if len(values) > count:
        raise ExportError('{}: {} values for a constant of shape {}'.format(
            where, len(values), shape))
    out = np.empty(count, dtype=dtype)
    # TF's rule: fewer values than elements repeat the last one (none: zeros)
    out[:len(values)] = values
    out[len(values):] = values[-1] if len(values) else 0
    return out.reshape(shape)


class FrozenGraph:
    """The nodes of a frozen graph, by name, with their constants on demand.

    Args:
        path (str): the ``.pb`` file.

    Attributes:
        path (str): as given. graph_def: the parsed ``GraphDef``.
        nodes (dict): name -> ``NodeDef``, in file order.
        consumers (dict): node name -> names of the nodes using one of its
            outputs (data edges only).
    """

    def __init__(self, path):
        self.path = path
        self.graph_def = graph_def = read_graph_def(path)
        self.nodes = collections.OrderedDict((node.name, node) for node in graph_def.node)
        if len(self.nodes) != len(graph_def.node):
            raise ExportError('{}: two nodes share a name: not a valid TF graph'.format(path))
        self.consumers = collections.defaultdict(list)
        for node in graph_def.node:
            for name in node.input:
                if not name.startswith('^'):
                    self.consumers[source(name)].append(node.name)
        self._constants = {}

    def where(self, name):
        return '{} (node {})'.format(self.path, name)

    def node(self, name):
        """The ``NodeDef`` named ``name``, or None."""
        return self.nodes.get(name)

    def op(self, name):
        """The op type of node ``name`` (``'Conv2D'``), or None."""
        node = self.nodes.get(name)
        return None if node is None else node.op

    def is_constant(self, name):
        return self.op(name) == 'Const'

    def constant(self, name):
        """The value of the ``Const`` node ``name`` (cached; do not modify).

        Raises:
            ExportError: no such node, or not a constant.
        """
        if name not in self._constants:
            node = self.nodes.get(name)
            if node is None or node.op != 'Const':
                raise ExportError('{}: no constant {} ({})'.format(
                    self.path, name, 'absent' if node is None else 'a ' + node.op + ' op'))
            self._constants[name] = tensor_array(node.attr['value'].tensor, self.where(name))
        return self._constants[name]

    def inputs(self, name):
        """Data inputs of node ``name`` as tensor names (``'x'``, ``'x:1'``)."""
        return [i for i in self.nodes[name].input if not i.startswith('^')]

    def input_node(self, name, index=0):
        """The node producing data input ``index`` of node ``name``, or None."""
        inputs = self.inputs(name) if name in self.nodes else []
        return self.nodes.get(source(inputs[index])) if index < len(inputs) else None

    def constant_input(self, name, index):
        """The constant value of data input ``index`` of node ``name``
        (through ``Identity`` nodes), or None when it is not a constant."""
        node = self.input_node(name, index)
        while node is not None and node.op == 'Identity':
            node = self.input_node(node.name, 0)
        return None if node is None or node.op != 'Const' else self.constant(node.name)

    def attr(self, name, key):
        """Attribute ``key`` of node ``name`` (an ``AttrValue``), or None."""
        node = self.nodes.get(name)
        return None if node is None or key not in node.attr else node.attr[key]

    def under(self, scope):
        """Names of the nodes inside ``scope`` (``'BoxPredictor_0'``), in file order."""
        prefix = scope.rstrip('/') + '/'
        return [name for name in self.nodes if name.startswith(prefix)]

    def has_scope(self, scope):
        prefix = scope.rstrip('/') + '/'
        return any(name.startswith(prefix) for name in self.nodes)

    def check_detection_export(self):
        """Raise ExportError unless the graph has one of the OD API exporter's
        input placeholders (:data:`INPUTS`) and its four outputs."""
        missing = [name for name in OUTPUTS if name not in self.nodes]
        if not any(self.op(name) == 'Placeholder' for name in INPUTS):
            missing.insert(0, ' or '.join(INPUTS))
        if missing:
            raise ExportError('{} is not an OD API TF1 detection export (export_inference_'
                              'graph.py): no {} node{}'.format(self.path, ', '.join(missing),
                                                               's' if len(missing) > 1 else ''))


def source(tensor_name):
    """The node name of a tensor name: ``'a/b:1'`` -> ``'a/b'``."""
    return tensor_name.lstrip('^').split(':')[0]
