"""Zoom out, box cropping, resize and flip against chainercv.transforms, and
the whole SSD training transform against ChainerCV's example, seeded alike."""
import random
import warnings

import chainer
import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.simplefilter('ignore', SyntaxWarning)
    from chainercv import transforms as T
    from chainercv.links.model import ssd as cv_ssd
    from chainercv.utils import generate_random_bbox

import replicate
from replicate.ssd.ssd300 import ASPECT_RATIOS, MEAN, SIZES, STEPS, VARIANCE
from replicate.ssd.vgg16 import VGG16Extractor300
from replicate.train import geometric
from replicate.train.augment import SSDAugmentation, augment


def sample(seed, n_box=3, height=120, width=160):
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 255, (3, height, width)).astype(np.float32)
    bbox = generate_random_bbox(n_box, (height, width), 8, 100)
    return img, bbox, rng.integers(0, 5, n_box).astype(np.int32)


@pytest.mark.parametrize('seed', range(6))
def test_random_expand_equals_chainercv(seed):
    img, _, _ = sample(seed)
    random.seed(seed)
    expected = T.random_expand(img, fill=MEAN, return_param=True)
    random.seed(seed)
    got = geometric.random_expand(img, fill=MEAN, return_param=True)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]


@pytest.mark.parametrize('allow_outside_center', [True, False])
def test_crop_bbox_equals_chainercv(allow_outside_center):
    bbox = generate_random_bbox(40, (200, 200), 2, 120)
    bbox[:3] = [[10, 10, 10, 30], [50, 60, 40, 70], [-20, -5, 5, 6]]  # degenerate, outside
    for y_slice, x_slice in [(slice(30, 150), slice(20, 170)), (slice(0, 200), None),
                             (None, slice(100, None))]:
        expected = T.crop_bbox(bbox, y_slice, x_slice, allow_outside_center, return_param=True)
        got = geometric.crop_bbox(bbox, y_slice, x_slice, allow_outside_center,
                                  return_param=True)
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[0].dtype == expected[0].dtype
        for key in ('index', 'truncated_index'):
            np.testing.assert_array_equal(got[1][key], expected[1][key])


def test_resize_translate_flip_bbox_equal_chainercv():
    bbox = generate_random_bbox(7, (90, 130), 4, 60)
    np.testing.assert_array_equal(geometric.resize_bbox(bbox, (90, 130), (300, 300)),
                                  T.resize_bbox(bbox, (90, 130), (300, 300)))
    np.testing.assert_array_equal(geometric.translate_bbox(bbox, 7, 11),
                                  T.translate_bbox(bbox, 7, 11))
    for y_flip, x_flip in [(True, False), (False, True), (True, True)]:
        np.testing.assert_array_equal(geometric.flip_bbox(bbox, (90, 130), y_flip, x_flip),
                                      T.flip_bbox(bbox, (90, 130), y_flip, x_flip))


@pytest.mark.parametrize('seed', range(4))
def test_random_flip_equals_chainercv(seed):
    img, _, _ = sample(seed)
    random.seed(seed)
    expected = T.random_flip(img, y_random=True, x_random=True, return_param=True)
    random.seed(seed)
    got = geometric.random_flip(img, y_random=True, x_random=True, return_param=True)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]


def chainercv_example_transform(img, bbox, label, coder, size, mean):
    """The five steps of ChainerCV's examples/ssd/train.py Transform, written
    out here with ChainerCV's functions (the reference)."""
    img = cv_ssd.random_distort(img)
    if np.random.randint(2):
        img, param = T.random_expand(img, fill=mean, return_param=True)
        bbox = T.translate_bbox(bbox, y_offset=param['y_offset'], x_offset=param['x_offset'])
    img, param = cv_ssd.random_crop_with_bbox_constraints(img, bbox, return_param=True)
    bbox, param = T.crop_bbox(bbox, y_slice=param['y_slice'], x_slice=param['x_slice'],
                              allow_outside_center=False, return_param=True)
    label = label[param['index']]
    _, height, width = img.shape
    img = cv_ssd.resize_with_random_interpolation(img, (size, size))
    bbox = T.resize_bbox(bbox, (height, width), (size, size))
    img, params = T.random_flip(img, x_random=True, return_param=True)
    bbox = T.flip_bbox(bbox, (size, size), x_flip=params['x_flip'])
    img -= mean
    mb_loc, mb_label = coder.encode(bbox, label)
    return img, mb_loc, mb_label


@pytest.mark.parametrize('seed', range(8))
def test_ssd_augmentation_equals_chainercv_example(seed):
    coder = replicate.MultiboxCoder(VGG16Extractor300.grids, ASPECT_RATIOS, STEPS, SIZES,
                                    VARIANCE)
    img, bbox, label = sample(seed, n_box=1 + seed % 3)
    random.seed(seed)
    np.random.seed(seed)
    expected = chainercv_example_transform(img.copy(), bbox, label, coder, 300, MEAN)
    random.seed(seed)
    np.random.seed(seed)
    got = SSDAugmentation(coder, 300, MEAN)((img.copy(), bbox, label))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('seed', range(20))
def test_augment_drops_degenerate_boxes_and_keeps_the_rest_inside(seed):
    # (boxes outside the image are clipped or dropped by the dataset before:
    # zoom out would otherwise move them onto the canvas, in ChainerCV too)
    img, bbox, label = sample(seed, n_box=5)
    bbox[:2] = [[20, 20, 20, 50], [40, 40, 30, 60]]  # zero-area, inverted
    rng = random.Random(seed)
    out, out_bbox, out_label = augment(img, bbox, label, 64, MEAN, rng,
                                       lambda: rng.randrange(2))
    assert out.shape == (3, 64, 64) and len(out_bbox) == len(out_label) <= 3
    assert (out_bbox[:, :2] < out_bbox[:, 2:]).all()
    assert (out_bbox >= 0).all() and (out_bbox <= 64).all()


def test_gradient_scaling_equals_chainercv():
    results = []
    for hook in (replicate.GradientScaling(0.2), cv_ssd.GradientScaling(0.2)):
        link = chainer.Link()
        with link.init_scope():
            link.param = chainer.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3))
        link.param.grad = np.arange(3, -3, -1, dtype=np.float32).reshape(2, 3)
        optimizer = chainer.optimizers.SGD(lr=1)
        optimizer.setup(link)
        optimizer.add_hook(hook)
        optimizer.update()
        results.append(link.param.array)
    want = np.arange(6).reshape(2, 3) - 0.2 * np.arange(3, -3, -1).reshape(2, 3)
    np.testing.assert_allclose(results[0], want, rtol=1e-6)
    np.testing.assert_array_equal(results[0], results[1])
    assert replicate.GradientScaling(2).name == 'GradientScaling'
