"""Export an SSD's network to ONNX with ``onnx_chainer`` (ships with Chainer).

Three things the stock export gets wrong for SSD, fixed by converters here:

* the batch size is baked into ``Reshape`` and ``Expand`` (``F.reshape`` and
  ``F.broadcast_to`` record the shape of the example batch), so a graph
  exported at batch 1 silently returns wrong shapes at batch 8: the batch
  dimension is taken from the input at run time instead;
* ``F.normalize`` becomes ``LpNormalization``, which has no ``eps``: it is
  written out as ``x / (sqrt(sum(x * x)) + eps)``, Chainer's formula;
* parameters are listed as graph inputs as well as initializers, which keeps
  ONNX Runtime from folding them (about 25% slower): they are removed from
  the inputs.

onnx_chainer imports ``onnx.mapping``, removed in onnx 1.19: onnx must be
older (pyproject.toml pins it).
"""
import warnings

import chainer
import numpy as np

#: Name of the graph input, float32 (batch, 3, insize, insize).
INPUT = 'x'
#: Names of the graph outputs, float32 (batch, K, 4) and (batch, K, n_class).
OUTPUTS = ('mb_locs', 'mb_confs')
#: ONNX opset: onnx_chainer writes max pooling's ceil mode from opset 11 on.
OPSET = 11
#: Batch size of the example batch traced at export. Any size works at run
#: time; an unusual one makes a shape that merely equals it unlikely.
TRACE_BATCH = 3


def _batch_shape(func, context, tail, name):
    """Nodes computing ``[batch of the graph input] + tail`` (int64), and the
    name of their result."""
    from onnx import helper
    shape = name + '_shape'
    batch = name + '_batch'
    nodes = [helper.make_node('Shape', [INPUT], [shape]),
             helper.make_node('Slice', [shape, context.add_const(np.array([0]), 'zero'),
                                        context.add_const(np.array([1]), 'one'),
                                        context.add_const(np.array([0]), 'axis')], [batch]),
             helper.make_node('Concat', [batch, context.add_const(
                 np.array(tail, dtype=np.int64), 'tail')], [name + '_full'], axis=0)]
    return nodes, name + '_full'


def _follows_batch(func, shape):
    """True when the op's first output dimension is the batch (traced as
    :data:`TRACE_BATCH`) and so must follow the input's batch at run time."""
    return shape[0] == TRACE_BATCH and func.inputs[0].shape[0] in (1, TRACE_BATCH)


def convert_reshape(params):
    """``F.reshape``: a leading batch dimension becomes ``0`` (copy the input's)."""
    from onnx import helper
    func, shape = params.func, list(params.func.shape)
    if _follows_batch(func, shape) and func.inputs[0].shape[0] == TRACE_BATCH:
        shape[0] = 0
    name = params.context.add_const(np.array(shape, dtype=np.int64), 'shape')
    return helper.make_node('Reshape', params.input_names + [name], params.output_names),


def convert_broadcast_to(params):
    """``F.broadcast_to``: a leading batch dimension is read from the input."""
    from onnx import helper
    func, shape = params.func, list(params.func._shape)
    if not _follows_batch(func, shape):
        name = params.context.add_const(np.array(shape, dtype=np.int64), 'shape')
        return helper.make_node('Expand', params.input_names + [name], params.output_names),
    nodes, name = _batch_shape(func, params.context, shape[1:], params.output_names[0])
    return tuple(nodes) + (helper.make_node(
        'Expand', params.input_names + [name], params.output_names),)


def convert_normalize(params):
    """``F.normalize``: ``x / (sqrt(sum(x * x, axis, keepdims)) + eps)``."""
    from onnx import helper
    func, (x,), (y,) = params.func, params.input_names, params.output_names
    eps = params.context.add_const(np.array(func.eps, dtype=np.float32), 'eps')
    return (helper.make_node('Mul', [x, x], [y + '_sq']),
            helper.make_node('ReduceSum', [y + '_sq'], [y + '_sum'], axes=list(func.axis),
                             keepdims=1),
            helper.make_node('Sqrt', [y + '_sum'], [y + '_norm']),
            helper.make_node('Add', [y + '_norm', eps], [y + '_den']),
            helper.make_node('Div', [x, y + '_den'], [y]))


CONVERTERS = {'Reshape': convert_reshape, 'BroadcastTo': convert_broadcast_to,
              'NormalizeL2': convert_normalize}


class _Network(chainer.Chain):
    """``model.forward``'s first two outputs: the traced graph's outputs."""

    def __init__(self, model):
        super().__init__()
        with self.init_scope():
            self.model = model

    def forward(self, x):
        return tuple(self.model.forward(x)[:2])


def export_network(model, size):
    """The network of a detector as an ONNX model with a free batch size.

    Args:
        model: a Chain on the CPU whose ``forward`` maps float32 (B, 3, H, W)
            to the box offsets and class scores first (e.g. a
            :class:`replicate.SSD`; a :class:`replicate.caffe.CaffeSSD`,
            whose third output, the constant prior boxes, is left out; a
            :class:`replicate.odapi.SSDMobileNetV2`).
        size: (H, W) of the input.

    Returns:
        ``onnx.ModelProto``: input :data:`INPUT`, outputs :data:`OUTPUTS` (the
        model's first two, in its own layout), dimension 0 of each named
        ``batch``; parameters as initializers only.
    """
    import onnx_chainer
    x = np.zeros((TRACE_BATCH, 3) + tuple(size), dtype=np.float32)
    with chainer.using_config('train', False), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # external converters are "experimental"
        proto = onnx_chainer.export(
            _Network(model), x, opset_version=OPSET, input_names=[INPUT],
            output_names=list(OUTPUTS), external_converters=CONVERTERS)
    initializers = {tensor.name for tensor in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in initializers]
    del proto.graph.input[:]
    proto.graph.input.extend(inputs)
    # the traced batch size -> a named free dimension
    for value in list(proto.graph.input) + list(proto.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = 'batch'
    del proto.graph.value_info[:]
    return proto


def export_ssd(model):
    """The network of a :class:`replicate.SSD` (``forward``: float32 (B, 3,
    insize, insize) -> (mb_locs, mb_confs)) on the CPU, as
    :func:`export_network` returns it."""
    return export_network(model, (model.insize, model.insize))
