"""Our layers, resize and NMS against the TensorFlow ops the export runs."""
import chainer
import numpy as np
import pytest

from replicate.odapi.layers import BatchNorm, Conv2D
from replicate.odapi.postprocess import Suppression, non_max_suppression
from replicate.odapi.preprocess import normalize, resize_bilinear

pytestmark = pytest.mark.tf
RNG = np.random.default_rng(0)


@pytest.fixture(scope='module')
def tf():
    # imported by the tests that run, not at collection (TensorFlow's import
    # costs every test worker seconds)
    return pytest.importorskip('tensorflow')


def _ours(link, x_nhwc):
    with chainer.using_config('train', False):
        y = link(x_nhwc.transpose(0, 3, 1, 2)).array
    return y.transpose(0, 2, 3, 1)


@pytest.mark.parametrize('size, stride', [(15, 2), (16, 2), (9, 1)])
def test_conv_same_padding_matches_tf(size, stride, tf):
    x = RNG.standard_normal((2, size, size + 3, 5)).astype(np.float32)
    kernel = RNG.standard_normal((3, 3, 5, 7)).astype(np.float32)
    conv = Conv2D(5, 7, 3, stride)
    conv.W.array[...] = kernel.transpose(3, 2, 0, 1)
    expected = tf.nn.conv2d(x, kernel, stride, 'SAME').numpy()
    np.testing.assert_allclose(_ours(conv, x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('padding', ['same', 'explicit'])
def test_depthwise_matches_tf(padding, tf):
    x = RNG.standard_normal((1, 16, 11, 6)).astype(np.float32)
    kernel = RNG.standard_normal((3, 3, 6, 1)).astype(np.float32)
    conv = Conv2D(6, 6, 3, 2, depthwise=True, padding=padding)
    conv.W.array[...] = kernel.transpose(2, 3, 0, 1)
    if padding == 'same':
        expected = tf.nn.depthwise_conv2d(x, kernel, (1, 2, 2, 1), 'SAME')
    else:
        padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        expected = tf.nn.depthwise_conv2d(padded, kernel, (1, 2, 2, 1), 'VALID')
    np.testing.assert_allclose(_ours(conv, x), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_batch_norm_matches_fused_batch_norm(tf):
    x = RNG.standard_normal((2, 4, 4, 3)).astype(np.float32)
    gamma, beta, mean = (RNG.standard_normal(3).astype(np.float32) for _ in range(3))
    var = RNG.uniform(0.1, 2, 3).astype(np.float32)
    bn = BatchNorm(3, eps=1e-3)
    bn.gamma.array[...], bn.beta.array[...], bn.avg_mean, bn.avg_var = gamma, beta, mean, var
    expected = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, mean, var, 1e-3,
                                                is_training=False)[0]
    np.testing.assert_allclose(_ours(bn, x), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('size_in, size_out', [((97, 141), (128, 128)), ((300, 300), (300, 300)),
                                               ((40, 30), (300, 300))])
def test_resize_matches_tf1_bilinear(size_in, size_out, tf):
    img = RNG.integers(0, 256, size_in + (3,)).astype(np.float32)
    x = normalize(img)
    expected = tf.compat.v1.image.resize_images(x[None], size_out, align_corners=False)[0]
    np.testing.assert_allclose(resize_bilinear(x, size_out), expected.numpy(), atol=1e-6)
    if size_in == size_out:
        np.testing.assert_array_equal(resize_bilinear(x, size_out), x)


def test_nms_matches_tf_with_ties(tf):
    centers = RNG.uniform(0, 1, (300, 2))
    sizes = RNG.uniform(0.05, 0.4, (300, 2))
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], 1).astype(np.float32)
    scores = np.round(RNG.uniform(0, 1, 300), 2).astype(np.float32)  # many ties
    for iou, score, limit in ((0.6, 1e-8, 100), (0.3, 0.5, 20), (0.5, 0.0, 300)):
        expected = tf.image.non_max_suppression_with_scores(boxes, scores, limit, iou, score)[0]
        assert non_max_suppression(boxes, scores, iou, score, limit).tolist() == \
            expected.numpy().tolist()


def test_one_suppression_shared_by_classes_matches_tf_per_class(tf):
    """multiclass_nms shares one Suppression (rows cached) between classes."""
    centers = RNG.uniform(0, 1, (200, 2))
    sizes = RNG.uniform(0.05, 0.4, (200, 2))
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], 1).astype(np.float32)
    shared = Suppression(boxes, 0.5)
    for _ in range(4):
        scores = np.round(RNG.uniform(0, 1, 200), 2).astype(np.float32)
        expected = tf.image.non_max_suppression_with_scores(boxes, scores, 30, 0.5, 0.1)[0]
        assert non_max_suppression(boxes, scores, 0.5, 0.1, 30, shared).tolist() == \
            expected.numpy().tolist()
    assert 0 < shared.done.sum() < 200  # rows computed only for the boxes kept
