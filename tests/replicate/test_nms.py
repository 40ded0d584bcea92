"""Our NMS against ChainerCV's CPU NMS: same indices, same order, same ties."""
import numpy as np
import pytest
from chainercv.utils import non_maximum_suppression as cv_nms

from replicate import non_maximum_suppression


def random_boxes(rng, n, dtype=np.float64, grid=None):
    """(n, 4) boxes (y_min, x_min, y_max, x_max) in a 100x100 field; with
    ``grid`` the corners are multiples of it, so exact duplicates and exact
    IoU ties occur."""
    top_left = rng.uniform(0, 80, (n, 2))
    size = rng.uniform(1, 40, (n, 2))
    if grid:
        top_left, size = np.round(top_left / grid) * grid, np.round(size / grid) * grid + grid
    return np.hstack((top_left, top_left + size)).astype(dtype)


def assert_same(bbox, thresh, score=None, limit=None):
    ours = non_maximum_suppression(bbox, thresh, score, limit)
    theirs = cv_nms(bbox, thresh, score, limit)
    assert ours.dtype == theirs.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)
    return ours


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('thresh', [0.1, 0.45, 0.7])
def test_random_boxes(seed, thresh):
    rng = np.random.default_rng(seed)
    bbox = random_boxes(rng, 300)
    kept = assert_same(bbox, thresh, rng.uniform(size=300))
    assert 0 < len(kept) < 300


@pytest.mark.parametrize('seed', range(5))
def test_ties_in_scores_and_boxes(seed):
    rng = np.random.default_rng(seed)
    bbox = random_boxes(rng, 200, grid=10)
    # 5 distinct score values: many equal scores, and many identical boxes
    score = rng.integers(0, 5, 200).astype(np.float32) / 4
    assert len(np.unique(bbox, axis=0)) < 200
    assert_same(bbox, 0.5, score)
    assert_same(bbox, 0.5, np.zeros(200))


def test_iou_exactly_at_threshold_is_suppressed():
    # intersection 5 x 10 = 50, union 100 + 100 - 50 = 150: IoU 50 / 150
    bbox = np.array([[0, 0, 10, 10], [0, 5, 10, 15]], dtype=np.float64)
    iou = 50.0 / 150.0
    np.testing.assert_array_equal(assert_same(bbox, iou, np.array([1.0, 0.5])), [0])
    np.testing.assert_array_equal(assert_same(bbox, iou + 1e-9, np.array([1.0, 0.5])), [0, 1])


@pytest.mark.parametrize('limit', [0, 1, 3, 1000])
def test_limit(limit):
    rng = np.random.default_rng(7)
    bbox = random_boxes(rng, 100)
    kept = assert_same(bbox, 0.3, rng.uniform(size=100), limit=limit)
    assert len(kept) <= max(limit, 1)


def test_without_score_visits_by_index():
    rng = np.random.default_rng(3)
    kept = assert_same(random_boxes(rng, 100, dtype=np.float32), 0.3)
    assert kept[0] == 0 and np.all(np.diff(kept) > 0)


def test_empty_and_degenerate():
    assert_same(np.zeros((0, 4)), 0.5, np.zeros(0))
    # zero-area boxes: IoU is 0/0 = nan, never suppresses
    bbox = np.array([[5, 5, 5, 5], [5, 5, 5, 5], [0, 0, 10, 10]], dtype=np.float64)
    with np.errstate(invalid='ignore'):
        np.testing.assert_array_equal(
            assert_same(bbox, 0.5, np.array([0.9, 0.8, 0.7])), [0, 1, 2])
