"""MultiboxCoder: encode/decode against ChainerCV's, and a round trip."""
import numpy as np
import pytest
from chainercv.links.model.ssd import MultiboxCoder as CVCoder

from replicate import MultiboxCoder
from replicate.ssd.ssd300 import ASPECT_RATIOS, SIZES, STEPS, VARIANCE
from replicate.ssd.vgg16 import VGG16Extractor300

ARGS = (VGG16Extractor300.grids, ASPECT_RATIOS, STEPS, SIZES, VARIANCE)


@pytest.fixture(scope='module')
def coders():
    return MultiboxCoder(*ARGS), CVCoder(*ARGS)


def random_gt(rng, n):
    """(n, 4) float32 boxes (y_min, x_min, y_max, x_max) inside 300x300, int32 labels."""
    top_left = rng.uniform(0, 250, (n, 2))
    size = rng.uniform(10, 150, (n, 2))
    bbox = np.hstack((top_left, np.minimum(top_left + size, 300))).astype(np.float32)
    return bbox, rng.integers(0, 20, n).astype(np.int32)


@pytest.mark.parametrize('seed, n_gt', [(0, 1), (1, 3), (2, 8), (3, 20)])
def test_encode_equal_to_chainercv(coders, seed, n_gt):
    ours, theirs = coders
    bbox, label = random_gt(np.random.default_rng(seed), n_gt)
    loc, mb_label = ours.encode(bbox, label)
    cv_loc, cv_label = theirs.encode(bbox, label)
    assert loc.dtype == np.float32 and mb_label.dtype == np.int32
    assert loc.shape == (8732, 4) and mb_label.shape == (8732,)
    np.testing.assert_array_equal(mb_label, cv_label)
    np.testing.assert_array_equal(loc, cv_loc)
    # every ground truth is matched at least once
    assert set(np.unique(mb_label[mb_label > 0]) - 1) == set(label)


def test_encode_threshold_and_empty(coders):
    ours, theirs = coders
    bbox, label = random_gt(np.random.default_rng(5), 4)
    for thresh in (0.3, 0.7):
        np.testing.assert_array_equal(ours.encode(bbox, label, thresh)[1],
                                      theirs.encode(bbox, label, thresh)[1])
    assert (ours.encode(bbox, label, 0.3)[1] > 0).sum() > \
        (ours.encode(bbox, label, 0.7)[1] > 0).sum()
    loc, mb_label = ours.encode(np.zeros((0, 4), np.float32), np.zeros(0, np.int32))
    assert loc.shape == (8732, 4) and not loc.any() and not mb_label.any()


def test_round_trip(coders):
    ours, _ = coders
    bbox, label = random_gt(np.random.default_rng(11), 6)
    loc, mb_label = ours.encode(bbox, label)
    decoded = ours.decode_boxes(loc)
    positive = mb_label > 0
    # which ground truth each positive box came from: the one it decodes to
    for box, cls in zip(decoded[positive], mb_label[positive] - 1, strict=True):
        distance = np.abs(bbox - box).max(axis=1)
        assert distance.min() < 1e-3
        assert label[distance.argmin()] == cls


def random_outputs(rng, n_class=21, background=6.0):
    """Untrained-looking (mb_loc, mb_conf): float32 (8732, 4), (8732, n_class)."""
    loc = rng.normal(0, 0.5, (8732, 4)).astype(np.float32)
    conf = rng.normal(0, 2.0, (8732, n_class)).astype(np.float32)
    conf[:, 0] += background
    return loc, conf


@pytest.mark.parametrize('seed', range(3))
# background logit chosen per case so that hundreds (not tens of thousands) of
# scores pass: ChainerCV's NMS loop is slow
@pytest.mark.parametrize('nms_thresh, score_thresh, background',
                         [(0.45, 0.01, 13.0), (0.45, 0.6, 6.0), (None, 0.3, 10.0)])
def test_decode_equal_to_chainercv(coders, seed, nms_thresh, score_thresh, background):
    ours, theirs = coders
    loc, conf = random_outputs(np.random.default_rng(seed), background=background)
    got = ours.decode(loc, conf, nms_thresh, score_thresh)
    expected = theirs.decode(loc, conf, nms_thresh, score_thresh)
    assert len(got[0]) > 0
    for a, b, dtype in zip(got, expected, (np.float32, np.int32, np.float32), strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_decode_nothing_passes(coders):
    ours, _ = coders
    loc, conf = random_outputs(np.random.default_rng(0), background=50.0)
    bbox, label, score = ours.decode(loc, conf, 0.45, 0.6)
    assert bbox.shape == (0, 4) and label.shape == (0,) and score.shape == (0,)
