"""The suppression graph against a brute-force IoU matrix computed with
ChainerCV's arithmetic: the same pairs, on hard inputs."""
import numpy as np
import pytest

from replicate.ssd import overlap
from replicate.ssd.overlap import suppression_graph, suppression_matrix


def brute_force_pairs(bbox, thresh):
    """Set of (i, j), i != j, with IoU >= thresh, computed as ChainerCV's CPU
    NMS computes a candidate against selected boxes."""
    area = np.prod(bbox[:, 2:] - bbox[:, :2], axis=1)
    pairs = set()
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
        for i, b in enumerate(bbox):
            tl = np.maximum(b[:2], bbox[:, :2])
            br = np.minimum(b[2:], bbox[:, 2:])
            inter = np.prod(br - tl, axis=1) * (tl < br).all(axis=1)
            iou = inter / (area[i] + area - inter)
            pairs.update((i, int(j)) for j in np.flatnonzero(iou >= thresh) if j != i)
    return pairs


def graph_pairs(bbox, thresh):
    indptr, indices = suppression_graph(bbox, thresh)
    assert indptr[0] == 0 and indptr[-1] == len(indices) and np.all(np.diff(indptr) >= 0)
    return {(i, int(j)) for i in range(len(bbox)) for j in indices[indptr[i]:indptr[i + 1]]}


def mixed_boxes(rng, n, dtype):
    """Small, tall, wide, huge, duplicated, zero-area and inverted boxes."""
    top_left = rng.uniform(0, 300, (n, 2))
    size = np.exp(rng.uniform(np.log(2), np.log(300), (n, 2)))
    bbox = np.hstack((top_left, top_left + size))
    bbox[::17] = bbox[1::17][:len(bbox[::17])]  # exact duplicates
    bbox[::23, 2] = bbox[::23, 0]  # zero height
    bbox[::29, 3] = bbox[::29, 1] - 5  # inverted width
    return np.round(bbox, 1).astype(dtype)  # rounding makes equal edges common


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('thresh', [0.3, 0.45, 0.7, 1.0])
def test_same_pairs_as_brute_force(dtype, thresh, monkeypatch):
    monkeypatch.setattr(overlap, 'BLOCK', 16)  # many blocks on a small input
    bbox = mixed_boxes(np.random.default_rng(int(thresh * 10)), 400, dtype)
    expected = brute_force_pairs(bbox, thresh)
    assert graph_pairs(bbox, thresh) == expected
    assert thresh == 1.0 or len(expected) > 30


@pytest.mark.parametrize('thresh', [0.0, -0.5, float('nan')])
def test_thresholds_that_every_pair_or_none_passes(thresh):
    bbox = mixed_boxes(np.random.default_rng(1), 60, np.float64)
    assert graph_pairs(bbox, thresh) == brute_force_pairs(bbox, thresh)


def test_non_finite_coordinates():
    bbox = np.array([[0, 0, 10, 10], [0, 0, np.inf, 10], [-np.inf, 0, 10, 10],
                     [np.nan, 0, 10, 10], [0, 0, 10, np.nan], [1, 1, 9, 9],
                     [0, 0, 10, 10]], dtype=np.float64)
    for thresh in (0.0, 0.5, 0.64):
        assert graph_pairs(bbox, thresh) == brute_force_pairs(bbox, thresh)
    assert (0, 6) in graph_pairs(bbox, 0.5) and (0, 5) in graph_pairs(bbox, 0.64)


def test_empty_and_single():
    indptr, indices = suppression_graph(np.zeros((0, 4)), 0.5)
    assert indptr.tolist() == [0] and len(indices) == 0
    indptr, indices = suppression_graph(np.array([[0., 0., 1., 1.]]), 0.5)
    assert indptr.tolist() == [0, 0] and len(indices) == 0


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_dense_matrix_same_pairs(dtype):
    bbox = mixed_boxes(np.random.default_rng(6), 150, dtype)
    for thresh in (0.0, 0.45, 0.7):
        with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
            matrix = suppression_matrix(bbox, None, thresh)
            cross = suppression_matrix(bbox[:40], bbox[40:], thresh)
        np.testing.assert_array_equal(cross, matrix[:40, 40:])
        pairs = {(int(i), int(j)) for i, j in zip(*np.nonzero(matrix), strict=True) if i != j}
        assert pairs == brute_force_pairs(bbox, thresh)
