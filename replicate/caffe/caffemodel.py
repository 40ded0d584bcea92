"""A strict reader of Caffe's binary ``.caffemodel`` (a ``NetParameter``
message), from the wire format (:mod:`replicate.caffe.wire`).

What is read (field numbers from Caffe's ``caffe.proto``):

- ``NetParameter``: ``layer`` (100, ``LayerParameter``, the format since
  2015) and ``layers`` (2, ``V1LayerParameter``, older files); the other
  fields (name, inputs, state) are skipped, since the ``.prototxt`` defines
  the network. A ``V0`` file (layers nested in ``layers.layer``) is refused.
- ``LayerParameter``: name (1), type (2), bottom (3), top (4), blobs (7);
  ``V1LayerParameter``: bottom (2), top (3), name (4), type (5, an enum),
  blobs (6). Layer parameters stored beside the blobs are skipped: the
  prototxt is what the network is built from.
- ``BlobProto``: its shape from ``shape`` (7, ``BlobShape.dim``, packed or
  not) or else from the legacy ``num``/``channels``/``height``/``width``
  (1-4, a 4-D shape), as Caffe's ``Blob::FromProto`` does (neither: a
  scalar); values from ``data`` (5, float32, packed or unpacked) or
  ``double_data`` (8, float64, cast to float32); ``diff`` (6, 9) skipped.

Limits, checked before anything is copied (the values are views of the
file's bytes until their count matches the declared shape):
:data:`MAX_FILE_BYTES`, :data:`MAX_LAYERS`, :data:`MAX_BLOBS_PER_LAYER`,
:data:`MAX_STRING_BYTES` (names, types, bottoms, tops), :data:`MAX_DIMS`;
every blob's element count must equal the product of its declared shape.
Nothing in the file is executed or unpickled.
"""
import dataclasses
import os

import numpy as np

from replicate.caffe import wire
from replicate.caffe.errors import CaffeError

#: Largest file read (protobuf itself stops at 2 GiB; SSD512-VGG16 is ~100 MB).
MAX_FILE_BYTES = 1 << 30
MAX_LAYERS = 10000
MAX_BLOBS_PER_LAYER = 16
MAX_STRING_BYTES = 1024
MAX_DIMS = 8
#: Largest single dimension (Caffe's dims are int64; shapes are int32 in practice).
MAX_DIM = 1 << 31

#: ``V1LayerParameter.LayerType`` numbers -> the type strings of ``LayerParameter``.
V1_TYPES = {
    35: 'AbsVal', 1: 'Accuracy', 30: 'ArgMax', 2: 'BNLL', 3: 'Concat', 37: 'ContrastiveLoss',
    4: 'Convolution', 5: 'Data', 39: 'Deconvolution', 6: 'Dropout', 32: 'DummyData',
    7: 'EuclideanLoss', 25: 'Eltwise', 38: 'Exp', 8: 'Flatten', 9: 'HDF5Data',
    10: 'HDF5Output', 28: 'HingeLoss', 11: 'Im2col', 12: 'ImageData', 13: 'InfogainLoss',
    14: 'InnerProduct', 15: 'LRN', 29: 'MemoryData', 16: 'MultinomialLogisticLoss', 34: 'MVN',
    17: 'Pooling', 26: 'Power', 18: 'ReLU', 19: 'Sigmoid', 27: 'SigmoidCrossEntropyLoss',
    36: 'Silence', 20: 'Softmax', 21: 'SoftmaxWithLoss', 22: 'Split', 33: 'Slice', 23: 'TanH',
    24: 'WindowData', 31: 'Threshold', 0: 'NONE'}

_DATA_TAG = bytes([5 << 3 | wire.FIXED32])  # BlobProto.data, unpacked


@dataclasses.dataclass(frozen=True)
class ModelLayer:
    """One layer of a caffemodel.

    Attributes:
        index (int): position in the file (0-based, over layers of its format).
        name (str), type (str): as written (a V1 type as its new name).
        blobs (tuple of numpy.ndarray): float32 arrays of the declared shapes.
        legacy (bool): read from a V1 ``layers`` entry.
    """
    index: int
    name: str
    type: str
    blobs: tuple
    legacy: bool = False


@dataclasses.dataclass(frozen=True)
class CaffeModel:
    """What a ``.caffemodel`` holds: its layers in file order."""
    path: str
    layers: tuple

    def with_blobs(self):
        """``{name: ModelLayer}`` of the layers that hold blobs."""
        return {layer.name: layer for layer in self.layers if layer.blobs}


def _blob_shape(reader):
    """``BlobShape`` -> tuple of int."""
    dims = []
    while not reader.done():
        number, wire_type = reader.tag()
        if number != 1:
            reader.skip(wire_type)
            continue
        if wire_type == wire.LENGTH:
            dims += reader.packed_varints('shape.dim', MAX_DIMS + 1)
        else:
            reader.expect(wire_type, wire.VARINT, 'shape.dim')
            dims.append(reader.varint())
        if len(dims) > MAX_DIMS:
            raise reader.error('blob shape has more than {} dimensions'.format(MAX_DIMS))
    for dim in dims:
        if wire.signed(dim) < 0 or dim > MAX_DIM:
            raise reader.error('blob shape dimension {} is out of range'.format(
                wire.signed(dim)))
    return tuple(dims)


def _blob(buf, start, end, path, what):
    """``BlobProto`` -> float32 array of its declared shape."""
    reader = wire.Reader(buf, start, end, path, what)
    shape, legacy, chunks, doubles = None, {}, [], []
    while not reader.done():
        number, wire_type = reader.tag()
        if number == 7:
            reader.expect(wire_type, wire.LENGTH, 'shape')
            s, e = reader.span()
            shape = _blob_shape(wire.Reader(buf, s, e, path, what + ' shape'))
        elif number in (1, 2, 3, 4):
            reader.expect(wire_type, wire.VARINT, 'num/channels/height/width')
            legacy[number] = wire.signed(reader.varint())
        elif number == 5 and wire_type == wire.LENGTH:
            chunks.append(reader.packed('<f4', 'data'))
        elif number == 5:
            reader.expect(wire_type, wire.FIXED32, 'data')
            chunks.append(reader.fixed32_run(_DATA_TAG))
        elif number == 8 and wire_type == wire.LENGTH:
            doubles.append(reader.packed('<f8', 'double_data'))
        elif number == 8:
            reader.expect(wire_type, wire.FIXED64, 'double_data')
            doubles.append(np.frombuffer(buf, '<f8', 1, reader.fixed64()))
        else:  # diff, double_diff and unknown fields
            reader.skip(wire_type)
    if shape is None:
        if any(v < 0 or v > MAX_DIM for v in legacy.values()):
            raise reader.error('legacy blob dimensions {} out of range'.format(legacy), start)
        # Caffe's Blob::FromProto: any legacy field -> (num, channels, height, width)
        shape = tuple(legacy.get(k, 0) for k in (1, 2, 3, 4)) if legacy else ()
    if chunks and doubles:
        raise reader.error('blob holds both float data and double_data', start)
    count = sum(len(c) for c in chunks or doubles)
    declared = int(np.prod(shape, dtype=object)) if shape else 1
    if count != declared:
        raise reader.error('blob declares shape {} ({} values) but holds {}'.format(
            shape, declared, count), start)
    values = np.concatenate(chunks or doubles) if count else np.zeros(0, np.float32)
    return values.astype(np.float32).reshape(shape)


def _layer(buf, start, end, path, index, legacy):
    """One ``LayerParameter`` (or ``V1LayerParameter``) -> :class:`ModelLayer`."""
    what = '{} {}'.format('layers (V1)' if legacy else 'layer', index)
    reader = wire.Reader(buf, start, end, path, what)
    fields = {'name': 4, 'type': 5, 'blobs': 6, 'v0': 1} if legacy else \
        {'name': 1, 'type': 2, 'blobs': 7}
    name, type_, spans = '', '', []
    while not reader.done():
        number, wire_type = reader.tag()
        if number == fields['name']:
            reader.expect(wire_type, wire.LENGTH, 'name')
            name = reader.string(MAX_STRING_BYTES, 'the layer name')
            reader.what = '{} ({})'.format(what, name)
        elif number == fields['type'] and legacy:
            reader.expect(wire_type, wire.VARINT, 'type')
            code = reader.varint()
            type_ = V1_TYPES.get(code, 'V1 type {}'.format(code))
        elif number == fields['type']:
            reader.expect(wire_type, wire.LENGTH, 'type')
            type_ = reader.string(MAX_STRING_BYTES, 'the layer type')
        elif number == fields['blobs']:
            reader.expect(wire_type, wire.LENGTH, 'blobs')
            if len(spans) >= MAX_BLOBS_PER_LAYER:
                raise reader.error('more than {} blobs in one layer'.format(
                    MAX_BLOBS_PER_LAYER))
            spans.append(reader.span())
        elif legacy and number == fields['v0']:
            raise CaffeError('{}: {} is in the V0 layer format (before 2014); upgrade it with '
                             "Caffe's upgrade_net_proto_binary".format(path, what))
        else:
            reader.skip(wire_type)
    blobs = tuple(_blob(buf, s, e, path, '{} ({}) blob {}'.format(what, name, i))
                  for i, (s, e) in enumerate(spans))
    return ModelLayer(index, name, type_, blobs, legacy)


def parse(buf, path='<bytes>'):
    """A :class:`CaffeModel` from the bytes of a ``.caffemodel``.

    Raises:
        CaffeError: anything that is not a well-formed NetParameter within the
            limits (the message names the file, the layer and the byte offset).
    """
    if not buf:
        raise CaffeError('{} is empty: pass the binary .caffemodel'.format(path))
    if buf[:64].lstrip()[:6] in (b'name: ', b'layer ', b'input:', b'layer{'):
        raise CaffeError('{} is a text file (a .prototxt?): pass the binary .caffemodel'.format(
            path))
    reader = wire.Reader(buf, 0, len(buf), path, 'NetParameter')
    layers, counts = [], {False: 0, True: 0}
    while not reader.done():
        number, wire_type = reader.tag()
        if number in (100, 2):
            reader.expect(wire_type, wire.LENGTH, 'layer' if number == 100 else 'layers')
            if len(layers) >= MAX_LAYERS:
                raise reader.error('more than {} layers'.format(MAX_LAYERS))
            legacy = number == 2
            start, end = reader.span()
            layers.append(_layer(buf, start, end, path, counts[legacy], legacy))
            counts[legacy] += 1
        else:
            reader.skip(wire_type)
    if not layers:
        raise CaffeError('{} holds no layers: not a Caffe .caffemodel'.format(path))
    if counts[False] and counts[True]:
        raise CaffeError('{} mixes layer (new) and layers (V1) entries: upgrade it with '
                         "Caffe's upgrade_net_proto_binary".format(path))
    seen = set()
    for layer in layers:
        if layer.blobs and layer.name in seen:
            raise CaffeError('{}: two layers named {!r} hold blobs: which weights are meant '
                             'is ambiguous'.format(path, layer.name))
        if layer.blobs:
            seen.add(layer.name)
    return CaffeModel(path, tuple(layers))


def read(path, max_bytes=None):
    """Read a ``.caffemodel`` file (see :func:`parse`); its size is checked
    against ``max_bytes`` (default :data:`MAX_FILE_BYTES`) before reading."""
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        size = os.path.getsize(path)
        if size > limit:
            raise CaffeError('{} is {} bytes, more than the {} a caffemodel may have here'
                             .format(path, size, limit))
        with open(path, 'rb') as f:
            buf = f.read(limit + 1)
    except OSError as exc:
        raise CaffeError('cannot read {}: {}'.format(path, exc.strerror or exc)) from None
    if len(buf) > limit:
        raise CaffeError('{} grew past {} bytes while being read'.format(path, limit))
    return parse(buf, path)
