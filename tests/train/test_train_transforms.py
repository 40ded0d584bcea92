"""ChainerCV's SSD transforms and ours, given the same random state: equal
outputs and parameters; plus the properties the outputs must have."""
import random
import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    # ChainerCV's docstrings have invalid escapes
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.simplefilter('ignore', SyntaxWarning)
    from chainercv.links.model import ssd as cv_ssd
    from chainercv.utils import bbox_iou as cv_bbox_iou
    from chainercv.utils import generate_random_bbox

import replicate
from replicate.train import transforms

SEEDS = range(12)


def noise_image(seed, height=90, width=120, channels=3):
    return np.random.default_rng(seed).uniform(0, 255, (channels, height, width)).astype(
        np.float32)


def both(seed, theirs, ours):
    """Run ChainerCV's and our function after seeding ``random`` alike."""
    random.seed(seed)
    expected = theirs()
    random.seed(seed)
    got = ours()
    return expected, got


@pytest.mark.parametrize('seed', SEEDS)
def test_random_distort_equals_chainercv(seed):
    img = noise_image(seed)
    expected, got = both(seed, lambda: cv_ssd.random_distort(img),
                         lambda: replicate.random_distort(img))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32 and got.shape == img.shape


def test_random_distort_changes_and_stays_in_range():
    img = noise_image(0)
    outs = []
    for seed in SEEDS:
        out = replicate.random_distort(img, rng=random.Random(seed))
        assert out.min() >= 0 and out.max() <= 255
        outs.append(out)
    # most draws change the image, and differently
    assert sum(not np.array_equal(o, np.floor(img)) for o in outs) >= 8
    assert len({o.tobytes() for o in outs}) >= 8


def test_rng_argument_equals_seeded_module():
    img = noise_image(1)
    random.seed(5)
    module = replicate.random_distort(img)
    np.testing.assert_array_equal(replicate.random_distort(img, rng=random.Random(5)), module)


@pytest.mark.parametrize('seed', SEEDS)
def test_random_crop_equals_chainercv(seed):
    img = noise_image(seed, 240, 320)
    bbox = generate_random_bbox(1 + seed % 4, img.shape[1:], 10, 200)
    expected, got = both(
        seed,
        lambda: cv_ssd.random_crop_with_bbox_constraints(img, bbox, return_param=True),
        lambda: replicate.random_crop_with_bbox_constraints(img, bbox, return_param=True))
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]


@pytest.mark.parametrize('seed', SEEDS)
def test_random_crop_keeps_its_constraint(seed):
    img = noise_image(seed, 240, 320)
    bbox = generate_random_bbox(3, img.shape[1:], 10, 200)
    out, param = replicate.random_crop_with_bbox_constraints(
        img, bbox, return_param=True, rng=random.Random(seed))
    crop = np.array([[param['y_slice'].start, param['x_slice'].start,
                      param['y_slice'].stop, param['x_slice'].stop]])
    assert 0 <= crop[0, 0] < crop[0, 2] <= 240 and 0 <= crop[0, 1] < crop[0, 3] <= 320
    np.testing.assert_array_equal(out, img[:, param['y_slice'], param['x_slice']])
    if param['constraint'] is not None:
        min_iou, max_iou = param['constraint']
        iou = cv_bbox_iou(bbox, crop.astype(np.float32))
        assert min_iou <= iou.min() and iou.max() <= max_iou
        # scale in [0.3, 1] of each side (to rounding), aspect change <= 2
        assert out.shape[1] * out.shape[2] >= 0.3 ** 2 * 240 * 320 - 320 - 240
        assert 0.5 / 1.01 <= (out.shape[2] / 320) / (out.shape[1] / 240) <= 2 * 1.01


def test_random_crop_without_boxes_is_the_image():
    img = noise_image(0)
    out, param = replicate.random_crop_with_bbox_constraints(
        img, np.zeros((0, 4), np.float32), return_param=True)
    assert param['constraint'] is None
    np.testing.assert_array_equal(out, img)


def test_random_crop_never_returns_an_empty_image():
    # 2x2 images: ChainerCV may accept a 0-pixel crop for the (None, 1) constraint
    img = noise_image(0, 2, 2)
    bbox = np.array([[0, 0, 1, 1]], np.float32)
    for seed in range(50):
        out = replicate.random_crop_with_bbox_constraints(img, bbox, rng=random.Random(seed))
        assert out.shape[1] >= 1 and out.shape[2] >= 1


@pytest.mark.parametrize('seed', SEEDS)
def test_resize_with_random_interpolation_equals_chainercv(seed):
    img = noise_image(seed, 37, 53)
    expected, got = both(
        seed,
        lambda: cv_ssd.resize_with_random_interpolation(img, (64, 48), return_param=True),
        lambda: replicate.resize_with_random_interpolation(img, (64, 48), return_param=True))
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1] and got[0].shape == (3, 64, 48)


def test_resize_grayscale_and_float64():
    img = np.random.default_rng(0).uniform(size=(1, 24, 32))
    out = replicate.resize_with_random_interpolation(img, (32, 64))
    assert out.shape == (1, 32, 64) and out.dtype == np.float32


def test_every_interpolation_is_drawn():
    flags = {replicate.resize_with_random_interpolation(
        noise_image(0, 8, 8), (4, 4), return_param=True, rng=random.Random(s))[1]
        ['interpolation'] for s in range(60)}
    assert flags == set(transforms._interpolations())
