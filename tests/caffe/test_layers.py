"""Each layer type on small generated nets, against OpenCV's DNN running the
same files (fusion and Winograd off), and the strict copying of blobs."""
import chainer
import numpy as np
import pytest
from caffe_files import NetWriter, write_caffemodel

from replicate.caffe import caffemodel, opencv, prototxt
from replicate.caffe.errors import CaffeError, CaffeWeightsError
from replicate.caffe.net import CaffeNet


def build(tmp_path, net, stem='net'):
    path, weights = net.write(tmp_path, stem)
    model = CaffeNet(prototxt.read(path))
    model.load(caffemodel.read(weights))
    return model, path, weights


def compare_with_opencv(model, path, weights, x, rtol=1e-5):
    """Every layer's output, ours vs OpenCV's: the largest scaled error."""
    names = [layer.name for layer, _ in model.entries]
    reference = opencv.forward(opencv.load_net(path, weights, exact=True), x, names)
    record = {}
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        model(x, record=record)
    worst = {}
    for name in names:
        ours, ref = record[name].array, reference[name]
        assert ours.shape == ref.shape, name
        worst[name] = float(np.abs(ours - ref).max() / np.abs(ref).max())
        assert worst[name] <= rtol, (name, worst[name])
    return worst


def image_batch(seed, size, batch=2):
    rng = np.random.RandomState(seed)
    return (rng.uniform(-1, 1, (batch, 3) + size) * 100).astype(np.float32)


def test_pooling_rounding_groups_dilation_and_bias_free_convolutions(tmp_path):
    net = NetWriter('pools', 24, 18)
    # ceil rounding: 24 -> 12 (floor: 11; the 12th window hangs over row 24)
    x = net.pool('max_ceil', 'data', 3, 2)
    a = net.pool('ave_pad', x, 3, 2, pad=1, method='AVE')  # divisor counts the padding
    x = net.conv('grouped', x, 6, 3, pad=2, dilation=2, group=3, gain=0.02)
    x = net.relu('relu', x)
    x = net.conv('nobias', x, 4, 1, bias=False)
    net.pool('global', x, 0, 0, method='AVE', global_=True)
    # width 9, pad 1: ceil gives 6 windows, the 6th would start in the padding: 5
    net.pool('max_pad', x, 2, 2, pad=1)
    model, path, weights = build(tmp_path, net)
    assert model.shapes['max_ceil'] == (1, 3, 12, 9) and model.shapes[a] == (1, 3, 7, 5)
    assert model.shapes['global'] == (1, 4, 1, 1) and model.shapes['max_pad'] == (1, 4, 7, 5)
    compare_with_opencv(model, path, weights, image_batch(0, (24, 18)))


def test_batch_norm_scale_eltwise_normalize_and_reshapes(tmp_path):
    net = NetWriter('resnet_bits', 12, 12)
    x = net.conv('conv', 'data', 8, 3, pad=1, gain=0.02)
    y = net.batch_norm('bn', x, top='bn')
    net.scale('scale', y)
    net.scale('scale_nobias', net.batch_norm('bn2', x, top='bn2'), bias=False)
    s = net.eltwise('sum', ['bn', 'bn2'])
    net.add('leaky', 'ReLU', [s], ['leaky'], 'relu_param { negative_slope: 0.1 }')
    net.channels['leaky'] = 8
    net.normalize('norm_shared', 'leaky', value=10, shared=True)
    net.add('perm', 'Permute', ['norm_shared'], ['perm'],
            'permute_param { order: 0 order: 2 order: 1 order: 3 }')
    net.add('flat', 'Flatten', ['perm'], ['flat'], 'flatten_param { axis: 2 }')
    net.add('reshape', 'Reshape', ['flat'], ['reshape'],
            'reshape_param { shape { dim: 0 dim: -1 dim: 4 } }')
    net.add('softmax', 'Softmax', ['reshape'], ['softmax'], 'softmax_param { axis: 2 }')
    net.add('concat', 'Concat', ['bn', 'bn2'], ['concat'], 'concat_param { axis: 1 }')
    model, path, weights = build(tmp_path, net)
    # perm (B, 12, 8, 12) -> flat (B, 12, 96) -> reshape (B, 288, 4)
    assert model.shapes['reshape'] == (1, 288, 4) and model.shapes['concat'] == (1, 16, 12, 12)
    worst = compare_with_opencv(model, path, weights, image_batch(1, (12, 12)))
    assert set(worst) >= {'bn', 'scale', 'sum', 'leaky', 'norm_shared', 'softmax'}


def test_batch_norm_uses_the_moving_average_factor(tmp_path):
    net = NetWriter('bn', 4, 4)
    net.batch_norm('bn', 'data', top='bn')
    model, _, _ = build(tmp_path, net)
    link = model.bn
    mean, var, factor = link.mean.copy(), link.variance.copy(), link.factor[0]
    x = image_batch(2, (4, 4), 1)
    y = model(x)['bn'].array
    expected = (x - (mean / factor)[None, :, None, None]) / np.sqrt(
        var / factor + 1e-5)[None, :, None, None]
    np.testing.assert_allclose(y, expected, rtol=2e-6)
    link.factor[0] = 0  # Caffe: a zero factor zeroes the statistics
    np.testing.assert_allclose(model(x)['bn'].array, x / np.sqrt(np.float32(1e-5)), rtol=2e-6)


def test_every_blob_is_used_or_reported(tmp_path):
    net = NetWriter('blobs', 8, 8)
    net.conv('conv', 'data', 4, 3)
    path, weights = net.write(tmp_path, 'n')
    conv = net.entries[0][2]
    spec = prototxt.read(path)

    def load(entries):
        model = CaffeNet(spec)
        model.load(caffemodel.read(write_caffemodel(str(tmp_path / 'x.caffemodel'), entries)))
        return model

    extra = load([('conv', 'Convolution', conv), ('fc8', 'InnerProduct', [np.ones((3, 2))])])
    assert extra.unused == (('fc8', 'InnerProduct', ((3, 2),)),)
    np.testing.assert_array_equal(extra.conv.W.array, conv[0])
    cases = [([('relu', 'ReLU', [])], 'holds no blobs for this layer'),
             ([('conv', 'Convolution', conv[:1])], r'holds 1 blob\(s\)'),
             ([('conv', 'Convolution', [conv[0][:, :, :2], conv[1]])],
              r'blob 0 .* has shape \(4, 3, 2, 3\), the prototxt needs \(4, 3, 3, 3\)'),
             ([('conv', 'Deconvolution', conv)], 'has a Deconvolution layer of that name'),
             ([('conv', 'Convolution', [conv[0] * np.nan, conv[1]])], 'NaN or Inf')]
    for entries, match in cases:
        with pytest.raises(CaffeWeightsError, match=match) as info:
            load(entries)
        assert '\n' not in str(info.value) and "layer 'conv' (Convolution)" in str(info.value)


@pytest.mark.parametrize('layer, match', [
    ('layer { name: "l" type: "LRN" bottom: "data" top: "l" }',
     r"layer 'l' \(LRN\): layer type 'LRN' is not supported"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     'num_output: 2 kernel_size: 3 shuffle: true } }', 'field shuffle is not supported'),
    ('layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: '
     'STOCHASTIC kernel_size: 2 } }', 'pool: STOCHASTIC is not supported'),
    ('layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e" eltwise_param '
     '{ operation: PROD } }', 'operation: PROD is not supported'),
    ('layer { name: "n" type: "Normalize" bottom: "data" top: "n" }',
     'across_spatial: true .* is not supported'),
    ('layer { name: "s" type: "Scale" bottom: "data" bottom: "data" top: "s" }',
     'two-bottom form'),
    ('layer { name: "c" type: "Convolution" bottom: "nowhere" top: "c" }',
     "bottom 'nowhere' is not produced"),
    ('layer { name: "d" type: "AnnotatedData" top: "d" }', 'use the deploy prototxt'),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     'num_output: 2 kernel_size: 9 } }', 'smaller than its kernel'),
])
def test_unsupported_layers_are_refused_in_one_line_naming_layer_and_type(layer, match):
    text = 'input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' + layer
    with pytest.raises(CaffeError, match=match) as info:
        CaffeNet(prototxt.parse(text, 'user.prototxt'))
    assert str(info.value).startswith('user.prototxt: layer ') and '\n' not in str(info.value)


def test_permute_appends_the_axes_it_does_not_name():
    text = ('input: "data" input_shape { dim: 1 dim: 3 dim: 5 dim: 7 }\n'
            'layer { name: "p" type: "Permute" bottom: "data" top: "p" permute_param { order: 0 '
            'order: 3 } }')
    net = CaffeNet(prototxt.parse(text))
    assert net.shapes['p'] == (1, 7, 3, 5)  # (0, 3) then the rest in order: (1, 2)
    x = np.arange(105, dtype=np.float32).reshape(1, 3, 5, 7)
    np.testing.assert_array_equal(net(x)['p'].array, x.transpose(0, 3, 1, 2))
