"""The layers of a prototxt as one Chainer chain, filled from a caffemodel.

:class:`CaffeNet` runs the test-phase layers in file order on named blobs
(a top overwrites a blob of the same name, as Caffe's in-place layers do).
Shapes are inferred layer by layer when the chain is built, so every
parameter count, blob shape and feature-map size is known before any
weights are read. :meth:`CaffeNet.load` takes the blobs of a
:class:`~replicate.caffe.caffemodel.CaffeModel` by layer name, strictly: a
layer of the prototxt that needs blobs and has none (or blobs of another
count or shape, or of a layer of another type) is an error; layers of the
caffemodel that the prototxt does not use are reported in
:attr:`CaffeNet.unused` (training-only layers, typically).
"""
import collections
import re

import chainer

from replicate.caffe import layers, ops
from replicate.caffe.caffemodel import V1_TYPES
from replicate.caffe.errors import CaffeError, CaffeWeightsError

#: Layer types that end the network: run by :class:`replicate.caffe.ssd.CaffeSSD`.
HEADS = ('DetectionOutput',)
BUILDERS = dict(layers.BLOB_LAYERS, **ops.OPS)
#: Layer types a user may mean that have no test-time effect here: named in the refusal.
_DATA_LAYERS = ('Data', 'AnnotatedData', 'ImageData', 'HDF5Data', 'MemoryData', 'WindowData',
                'DummyData', 'VideoData')


def _child_name(name, taken):
    """A Chainer child name for a Caffe layer name (letters, digits, '_'), unique."""
    base = re.sub(r'[^0-9A-Za-z_]', '_', name) or 'layer'
    if base[0].isdigit() or hasattr(chainer.Chain, base):
        base = 'l_' + base
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = '{}_{}'.format(base, k)
    taken.add(candidate)
    return candidate


def build_op(spec, in_shapes):
    """The op of one layer, or a one-line refusal naming the layer and its type."""
    if spec.type in _DATA_LAYERS:
        raise spec.refuse('a data layer (training/testing from a database) is not built: use '
                          'the deploy prototxt (input + input_shape, or an Input layer)')
    if spec.type not in BUILDERS:
        raise spec.refuse('layer type {!r} is not supported (supported: {})'.format(
            spec.type, ', '.join(sorted(BUILDERS) + ['Input'] + list(HEADS))))
    return BUILDERS[spec.type](spec, in_shapes)


class CaffeNet(chainer.Chain):
    """Every test-phase layer of a :class:`~replicate.caffe.prototxt.NetSpec`
    up to (not including) the :data:`HEADS`.

    Attributes:
        spec: the NetSpec.
        entries (list of (LayerSpec, op)): in execution order.
        heads (list of LayerSpec): the DetectionOutput layer(s).
        shapes (dict): blob name -> shape at the prototxt's input shape.
        unused (tuple of (name, type, shapes)): caffemodel layers with blobs
            that no layer here uses (after :meth:`load`).
    """

    def __init__(self, spec):
        super().__init__()
        self.spec, self.entries, self.heads, self.unused = spec, [], [], ()
        shapes = {spec.input_name: spec.input_shape}
        taken = set()
        for layer in spec.layers:
            if layer.type in HEADS:
                self.heads.append(layer)
                continue
            for bottom in layer.bottoms:
                if bottom not in shapes:
                    raise layer.refuse('bottom {!r} is not produced by an earlier layer'
                                       .format(bottom))
            op = build_op(layer, [shapes[b] for b in layer.bottoms])
            if len(op.out_shapes) != len(layer.tops):
                raise layer.refuse('has {} tops, {} expected'.format(len(layer.tops),
                                                                   len(op.out_shapes)))
            shapes.update(zip(layer.tops, op.out_shapes, strict=True))
            if op.link is not None:
                with self.init_scope():
                    setattr(self, _child_name(layer.name, taken), op.link)
            self.entries.append((layer, op))
        self.shapes = shapes

    def load(self, model):
        """Copy the blobs of ``model`` (a CaffeModel) into the layers, strictly
        (see the module doc); returns the number of blobs copied."""
        by_name = model.with_blobs()
        used, copied = set(), 0
        for layer, op in self.entries:
            source = by_name.get(layer.name)
            if not op.blob_shapes:
                if source is not None:
                    raise CaffeWeightsError('{}: {} holds {} blob(s) for this layer, which '
                                            'takes none'.format(layer.where, model.path,
                                                                len(source.blobs)))
                continue
            if source is None:
                raise CaffeWeightsError('{}: {} holds no blobs for this layer (is it the '
                                        'caffemodel of this prototxt?)'.format(layer.where,
                                                                              model.path))
            if source.type != layer.type and V1_TYPES.get(source.type) != layer.type:
                raise CaffeWeightsError('{}: {} has a {} layer of that name'.format(
                    layer.where, model.path, source.type))
            op.check_blobs(layer, source.blobs, model.path)
            op.load(source.blobs)
            used.add(layer.name)
            copied += len(source.blobs)
        self.unused = tuple((name, entry.type, tuple(b.shape for b in entry.blobs))
                            for name, entry in by_name.items() if name not in used)
        return copied

    def forward(self, x, record=None):
        """Run every layer.

        Args:
            x: float32 (B, 3, H, W) Variable or array, the prepared input.
            record (dict or None): if given, filled with ``{layer name: its
                first top}`` in execution order.

        Returns:
            dict: blob name -> Variable, the last value of each blob.
        """
        blobs = {self.spec.input_name: chainer.as_variable(x)}
        for layer, op in self.entries:
            outs = op([blobs[b] for b in layer.bottoms])
            blobs.update(zip(layer.tops, outs, strict=True))
            if record is not None:
                record[layer.name] = outs[0]
        return blobs

    def layer_types(self):
        """``{type: count}`` of the built layers, for a record."""
        return dict(collections.Counter(layer.type for layer, _ in self.entries))


def refuse_unknown_heads(net):
    if len(net.heads) != 1:
        raise CaffeError('{}: {} DetectionOutput layers; an SSD has one'.format(
            net.spec.path, len(net.heads)))
