"""The reference for a TF1 frozen graph: TensorFlow running the graph itself
in a ``tf.compat.v1.Session``, any tensor fetched by name, and which of its
tensors stands for each recorded output of our port.

The graph is imported as it is (``import_graph_def``, nothing rebuilt) and
run on each raw uint8 image through ``image_tensor``. Slim keeps every layer
under its scope, so our link ``extractor/base/expanded_conv_1/expand/conv`` is
the op ``FeatureExtractor/MobilenetV2/expanded_conv_1/expand/Conv2D`` (its
``BiasAdd`` when the layer has a bias), ``.../BatchNorm`` the scope's
``FusedBatchNorm``, ``.../act`` its ``Relu6``, a block's output its ``output``
identity (:func:`counterpart`). Arrays come back NHWC and are transposed to
our NCHW; box-head rows (B, N, 1, 4) are reshaped to (B, N, 4).
"""
import re

import numpy as np

from replicate.errors import one_line
from replicate.odapi.errors import ExportError
from replicate.odapi.frozen_graph import FrozenGraph, source
from replicate.odapi.frozen_weights import tf_scope
from replicate.odapi.slim_mobilenet_v2 import SCOPE, TAPS, SlimBlock, SlimConv

#: Post-processor tensors (``ssd_meta_arch.postprocess`` names them).
DECODED = 'Postprocessor/raw_box_locations:0'
SCORES = 'Postprocessor/raw_box_scores:0'
ANCHORS = 'Concatenate/concat:0'
OUTPUTS = {'boxes': 'detection_boxes:0', 'scores': 'detection_scores:0',
           'classes': 'detection_classes:0', 'num': 'num_detections:0'}


def tensor(name):
    """``'op'`` -> ``'op:0'`` (a name with an output index is kept)."""
    return name if ':' in name else name + ':0'


class FrozenReference:
    """A frozen graph, read (:class:`replicate.odapi.frozen_graph.FrozenGraph`)
    and imported into TensorFlow.

    Args:
        path (str): the ``.pb`` file.
    """

    def __init__(self, path):
        import tensorflow as tf
        self.graph = FrozenGraph(path)
        self.tf_graph = tf.Graph()
        try:
            with self.tf_graph.as_default():
                tf.compat.v1.import_graph_def(self.graph.graph_def, name='')
        except Exception as exc:  # ValueError and friends: not a graph TF can import
            raise ExportError('{}: TensorFlow cannot import it: {}'.format(
                path, one_line(exc)[:200])) from None
        self.session = tf.compat.v1.Session(graph=self.tf_graph)

    def run(self, image, fetches):
        """``{key: array}`` of ``fetches`` ({key: tensor name}) on one uint8
        (H, W, 3) image (batch axis kept)."""
        values = self.session.run(dict(fetches), feed_dict={
            'image_tensor:0': np.asarray(image, dtype=np.uint8)[None]})
        return {key: np.asarray(value) for key, value in values.items()}

    def close(self):
        self.session.close()

    # --- which op is which layer --------------------------------------------------

    def _first(self, *names):
        return next((n for n in names if self.graph.node(n) is not None), None)

    def conv_op(self, scope):
        return self._first(scope + '/Conv2D', scope + '/depthwise')

    def conv_output(self, scope):
        return self._first(scope + '/BiasAdd') or self.conv_op(scope)

    def norm_op(self, scope):
        return next((n for n in self.graph.under(scope + '/BatchNorm')
                     if self.graph.op(n).startswith('FusedBatchNorm')), None)

    def act_op(self, scope):
        return self._first(scope + '/Relu6', scope + '/Relu')

    def unit_output(self, scope):
        return self.act_op(scope) or self.norm_op(scope) or self.conv_output(scope)

    def data_input(self, op, index=0):
        """Input ``index`` of ``op`` as a tensor name, looking through an
        explicit ``Pad`` (our layers pad themselves)."""
        name = self.graph.inputs(op)[index]
        node = self.graph.node(source(name))
        if node is not None and node.op == 'Pad':
            name = self.graph.inputs(node.name)[0]
        return tensor(name)

    def map_input(self, k):
        """The k-th feature map: the input of ``BoxPredictor_k``'s first op."""
        scope = 'BoxPredictor_{}'.format(k)
        op = self.conv_op(scope + '/BoxEncodingPredictor_depthwise') or \
            self.conv_op(scope + '/BoxEncodingPredictor')
        return None if op is None else self.data_input(op)


def _links(model):
    return {path.lstrip('/'): link for path, link in model.namedlinks(skipself=True)}


def counterpart(reference, model, name):
    """``(tensor name, layout)`` of the TF tensor standing for our record
    ``name``, or None. Layouts: ``'nchw'`` (TF NHWC, transposed), ``'rows'``
    (reshaped to (B, N, last)), ``'same'``."""
    found = _counterpart(reference, _links(model), name, model)
    if found is None or reference.graph.node(source(found[0])) is None:
        return None
    return tensor(found[0]), found[1]


def _counterpart(ref, links, name, model):
    leaf = re.match(r'^(?P<path>.+)/(?P<leaf>conv|BatchNorm|act|add)$', name)
    if leaf:
        scope = tf_scope(leaf.group('path'))
        op = {'conv': ref.conv_output, 'BatchNorm': ref.norm_op, 'act': ref.act_op,
              'add': lambda s: s + '/add'}[leaf.group('leaf')](scope)
        return (op, 'nchw') if op else None
    if isinstance(links.get(name), SlimConv):
        return ref.unit_output(tf_scope(name)), 'nchw'
    block = re.match(r'^(?P<path>extractor/base/[^/\[]+)\[(?P<i>[01])\]$', name)
    if block and isinstance(links.get(block.group('path')), SlimBlock):
        scope = tf_scope(block.group('path'))
        if block.group('i') == '0':
            return scope + '/output', 'nchw'
        return ref._first(scope + '/expansion_output', scope + '/input'), 'nchw'
    tap = re.match(r'^extractor/base\[(?P<i>[01])\]$', name)
    if tap:
        block_name, unit = TAPS[int(tap.group('i'))]
        if unit:
            return '{}/{}/expansion_output'.format(SCOPE, block_name), 'nchw'
        return ref.unit_output('{}/{}'.format(SCOPE, block_name)), 'nchw'
    extra = re.match(r'^extractor/extras\[(?P<j>\d+)\]$', name)
    if extra:
        last = model.extractor.extras.layers[int(extra.group('j'))][-1]
        return ref.unit_output('{}/{}'.format(SCOPE, last)), 'nchw'
    feature = re.match(r'^extractor\[(?P<k>\d+)\]$', name)
    if feature:
        found = ref.map_input(int(feature.group('k')))
        return (found, 'nchw') if found else None
    return _head(ref, name)


def _head(ref, name):
    head = re.match(r'^multibox/(?P<box>BoxPredictor_\d+)/(?P<head>BoxEncodingPredictor|'
                    r'ClassPredictor)>(?P<fn>transpose|reshape)$', name)
    if head:
        scope = '{}/{}'.format(head.group('box'), head.group('head'))
        if head.group('fn') == 'transpose':
            return ref.conv_output(scope), 'same'
        reshape = 'Reshape' if head.group('head') == 'BoxEncodingPredictor' else 'Reshape_1'
        return '{}/{}'.format(head.group('box'), reshape), 'rows'
    rows = re.match(r'^multibox/(?P<box>BoxPredictor_\d+)\[(?P<i>[01])\]$', name)
    if rows:
        return '{}/{}'.format(rows.group('box'), ('Reshape', 'Reshape_1')[int(rows.group('i'))]), \
            'rows'
    if re.match(r'^(multibox/.*>concat|multibox\[0\]|box_encodings)$', name):
        return 'Squeeze', 'same'
    if re.match(r'^(multibox/.*>concat#2|multibox\[1\]|class_predictions)$', name):
        return 'concat_1', 'same'
    return None


def local_pairs(reference, model, names):
    """{our leaf name: (input tensor names, output tensor name)}: each of our
    leaf layers (conv, BatchNorm, act, add) with the TF op it stands for."""
    links, found = _links(model), {}
    for name in names:
        match = re.match(r'^(?P<path>.+)/(?P<leaf>conv|BatchNorm|act|add)$', name)
        if not match or name not in links:
            continue
        scope, leaf = tf_scope(match.group('path')), match.group('leaf')
        if leaf == 'conv':
            op = reference.conv_op(scope)
            out = reference.conv_output(scope)
        else:
            op = {'BatchNorm': reference.norm_op, 'act': reference.act_op,
                  'add': lambda s: s + '/add'}[leaf](scope)
            out = op
        if op is None or reference.graph.node(op) is None:
            continue
        count = 2 if leaf == 'add' else 1
        found[name] = ([reference.data_input(op, i) for i in range(count)], tensor(out))
    return found


def to_ours(value, layout):
    """A TF array -> our layout (module doc)."""
    if layout == 'nchw':
        return value.transpose(0, 3, 1, 2)
    if layout == 'rows':
        return value.reshape(value.shape[0], value.shape[1], value.shape[-1])
    return value
