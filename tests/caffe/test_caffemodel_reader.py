"""The caffemodel reader on small files the tests write from the wire format
(:mod:`caffe_files`), well-formed ones in every encoding Caffe uses and
truncated, garbage, oversized and hostile ones, each refused in one line."""
import os

import numpy as np
import pytest
from caffe_files import (
    blob,
    caffemodel_bytes,
    layer,
    length_field,
    string_field,
    tag,
    v1_layer,
    varint,
    varint_field,
)

from replicate.caffe import caffemodel
from replicate.caffe.errors import CaffeError

W = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 7
B = np.array([0.5, -1.25], np.float32)


def write(tmp_path, data, name='m.caffemodel'):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def refused(path, match, **kwargs):
    """The one-line CaffeError reading ``path`` raises; it names the file."""
    with pytest.raises(CaffeError, match=match) as info:
        caffemodel.read(path, **kwargs)
    message = str(info.value)
    assert '\n' not in message and path in message
    return message


@pytest.mark.parametrize('options', [dict(), dict(packed=False), dict(legacy=True),
                                     dict(double=True), dict(double=True, packed=False)])
def test_every_blob_encoding_reads_back_the_same_values(tmp_path, options):
    data = caffemodel_bytes([layer('conv1', 'Convolution', [W, B], ['data'], ['conv1'],
                                   **options), layer('relu1', 'ReLU')])
    model = caffemodel.read(write(tmp_path, data))
    conv, relu = model.layers
    assert (conv.name, conv.type, relu.name, relu.blobs) == ('conv1', 'Convolution', 'relu1', ())
    # a legacy shape is 4-D: (1, 1, 1, 2) for the bias
    assert conv.blobs[1].shape == ((1, 1, 1, 2) if options.get('legacy') else (2,))
    np.testing.assert_array_equal(conv.blobs[0], W)
    np.testing.assert_array_equal(conv.blobs[1].ravel(), B)
    assert conv.blobs[0].dtype == np.float32 and list(model.with_blobs()) == ['conv1']


def test_v1_layers_and_scalar_and_unpacked_dims(tmp_path):
    # BlobShape.dim unpacked (one varint field per dim), and a scalar blob (no dims)
    dims = length_field(7, varint_field(1, 2) + varint_field(1, 3))
    values = length_field(5, np.ones(6, '<f4').tobytes())
    scalar = length_field(7, b'') + length_field(5, np.float32(20).tobytes())
    data = caffemodel_bytes([v1_layer('conv', 4) + length_field(6, dims + values),
                             v1_layer('norm', 4) + length_field(6, scalar)], v1=True)
    first, second = caffemodel.read(write(tmp_path, data)).layers
    assert first.type == 'Convolution' and first.legacy and first.blobs[0].shape == (2, 3)
    assert second.blobs[0].shape == () and second.blobs[0] == 20


def test_fields_the_reader_skips_are_still_bounds_checked(tmp_path):
    extra = varint_field(10, 1) + tag(99, 5) + b'\0\0\0\0' + tag(98, 1) + b'\0' * 8 + \
        length_field(106, b'\x08\x05')  # phase, unknown fixed32/fixed64, a param message
    data = caffemodel_bytes([layer('a', 'Convolution', [B]) + extra])
    assert caffemodel.read(write(tmp_path, data)).layers[0].blobs[0].shape == (2,)
    with pytest.raises(CaffeError, match='runs past the end'):
        caffemodel.parse(caffemodel_bytes([layer('a', 'ReLU') + tag(99, 5) + b'\0\0']))


def test_truncated_files_are_refused_at_every_cut(tmp_path):
    data = caffemodel_bytes([layer('conv1', 'Convolution', [W, B])])
    cuts = [n for n in range(1, len(data)) if n % 7 == 0 or n > len(data) - 4]
    for n in cuts:
        refused(write(tmp_path, data[:n]), 'at byte|holds no layers|declares shape')


def test_garbage_empty_text_and_oversized_files(tmp_path):
    rng = np.random.RandomState(0)
    refused(write(tmp_path, rng.bytes(4096), 'garbage.bin'), 'not a Caffe .caffemodel')
    refused(write(tmp_path, b'', 'empty.caffemodel'), 'is empty')
    refused(write(tmp_path, b'name: "VGG"\nlayer {\n', 'deploy.prototxt'), 'is a text file')
    data = caffemodel_bytes([layer('conv1', 'Convolution', [W])])
    refused(write(tmp_path, data), 'more than the 64 a caffemodel may have', max_bytes=64)
    refused(str(tmp_path / 'missing.caffemodel'), 'cannot read')


def test_a_declared_shape_larger_than_the_data_is_refused_before_allocating(tmp_path):
    huge = length_field(7, length_field(1, varint(1 << 30) + varint(1 << 30))) + \
        length_field(5, np.ones(4, '<f4').tobytes())
    message = refused(write(tmp_path, caffemodel_bytes([layer('a', 'Convolution') +
                                                        length_field(7, huge)])),
                      r'declares shape \(1073741824, 1073741824\)')
    assert 'holds 4' in message
    short = caffemodel_bytes([layer('a', 'Convolution', [W])])
    assert caffemodel.parse(short)  # and a length prefix past the end:
    lying = caffemodel_bytes([layer('a', 'Convolution') + tag(7, 2) + varint(1 << 40)])
    refused(write(tmp_path, lying, 'lying.caffemodel'), 'runs past the end')


def test_hostile_structures_are_refused_in_one_line(tmp_path, monkeypatch):
    cases = {
        'long_varint': (tag(100, 2) + b'\xff' * 11, 'longer than 10 bytes'),
        'group': (tag(5, 3), 'wire type 3'),
        'field_zero': (b'\x00\x00', 'field number 0'),
        'wrong_wire': (tag(100, 0) + varint(3), 'wire type varint, expected length'),
        'long_name': (length_field(100, string_field(1, 'x' * 2000)), '2000 bytes long'),
        'bad_utf8': (length_field(100, length_field(1, b'\xff\xfe')), 'not UTF-8'),
        'negative_dim': (length_field(100, length_field(7, length_field(7, length_field(
            1, varint(-3))))), 'dimension -3 is out of range'),
        'too_many_dims': (length_field(100, length_field(7, length_field(7, length_field(
            1, varint(1) * 9)))), 'more than 8 dimensions'),
        'odd_packed': (length_field(100, length_field(7, length_field(5, b'\0' * 6))),
                       'not a multiple of 4'),
        'float_and_double': (length_field(100, length_field(7, blob(B) + length_field(
            8, np.zeros(2, '<f8').tobytes()))), 'both float data and double_data'),
        'v0': (length_field(2, length_field(1, b'')), 'V0 layer format'),
        'mixed': (length_field(100, string_field(1, 'a')) + length_field(2, string_field(4, 'b')),
                  'mixes layer'),
        'duplicate': (caffemodel_bytes([layer('a', 'Scale', [B]), layer('a', 'Scale', [B])]),
                      "two layers named 'a'"),
    }
    for name, (data, match) in cases.items():
        refused(write(tmp_path, data, name + '.caffemodel'), match)
    monkeypatch.setattr(caffemodel, 'MAX_LAYERS', 3)
    refused(write(tmp_path, caffemodel_bytes([layer(str(i), 'ReLU') for i in range(4)])),
            'more than 3 layers')
    monkeypatch.setattr(caffemodel, 'MAX_BLOBS_PER_LAYER', 1)
    refused(write(tmp_path, caffemodel_bytes([layer('a', 'Scale', [B, B])])),
            'more than 1 blobs')


def test_the_packaged_face_detector_reads():
    from replicate.packaged import packaged_path
    model = caffemodel.read(packaged_path('res10_ssd300_face.caffemodel'))
    blobs = model.with_blobs()
    # 32 convolutions, 10 batch norms, 10 scales, 1 normalize
    assert len(model.layers) == 121 and len(blobs) == 53
    assert blobs['conv1_h'].blobs[0].shape == (32, 3, 7, 7)
    assert [b.shape for b in blobs['data_bn'].blobs] == [(3,), (3,), (1,)]
    # the float32 values are nearly all of the file's bytes
    size = os.path.getsize(model.path)
    assert 0.99 * size < sum(b.size for e in blobs.values() for b in e.blobs) * 4 < size
