"""The compiled greedy passes (numba) against ChainerCV's CPU NMS and the
numpy passes: the same kept boxes in the same order, also for ties,
degenerate and non-finite boxes, float32 and float64."""
import warnings

import numpy as np
import pytest

from replicate.bench.synthetic import trained_like_outputs
from replicate.ssd import nms, nms_compiled
from replicate.ssd.overlap import suppression_graph
from replicate.ssd.ssd300 import ssd300_coder

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from chainercv.links.model.ssd import MultiboxCoder as ChainerCVCoder
    from chainercv.utils import non_maximum_suppression as cv_nms

pytestmark = pytest.mark.skipif(not nms_compiled.AVAILABLE, reason='numba is not installed '
                                '(the project pins it; the numpy passes run instead)')


def hostile_boxes(rng, n, dtype):
    """Boxes with duplicates, zero and negative sizes, nan and inf corners."""
    top_left = rng.integers(0, 20, (n, 2)).astype(dtype)
    bbox = np.hstack((top_left, top_left + rng.integers(-1, 8, (n, 2)))).astype(dtype)
    bbox[rng.random(n) < 0.1] = bbox[0]
    bbox[rng.random(n) < 0.03, 2] = np.inf
    bbox[rng.random(n) < 0.03, 1] = np.nan
    bbox[rng.random(n) < 0.03, 0] = -np.inf
    return bbox


def chainercv_lists(bbox, scores, thresh):
    """ChainerCV's NMS of each list: visiting order, then its kept indices."""
    orders, kept = [], []
    for score in scores:
        index = np.flatnonzero(score >= 0)
        orders.append(index[nms.score_order(score[index], len(index))])
        with np.errstate(all='ignore'):
            kept.append(index[cv_nms(bbox[index], thresh, score[index])])
    return orders, kept


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('thresh', [0.0, 0.3, 0.45, 1.0])
def test_lists_equal_chainercv(dtype, thresh):
    rng = np.random.default_rng(int(thresh * 100) + len(str(dtype)))
    bbox = hostile_boxes(rng, 300, dtype)
    # 6 lists; quantised scores make ties; -1: not in the list
    scores = np.where(rng.random((6, 300)) < 0.4, rng.integers(0, 5, (6, 300)) / 4, -1.0)
    orders, expected = chainercv_lists(bbox, scores, thresh)
    with np.errstate(all='ignore'):
        got = nms_compiled.greedy_lists(bbox, orders, thresh)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sum(len(k) for k in got) > 6  # something is kept, something suppressed
    assert sum(len(k) for k in got) < sum(len(o) for o in orders)


def test_graph_equals_numpy_greedy():
    rng = np.random.default_rng(3)
    bbox = hostile_boxes(rng, 400, np.float64)
    with np.errstate(all='ignore'):
        graph = suppression_graph(bbox, 0.45)
    orders = [rng.permutation(400)[:n] for n in (0, 1, 50, 400)]
    got = nms_compiled.greedy_graph(graph, orders, 400)
    for a, order in zip(got, orders, strict=True):
        np.testing.assert_array_equal(a, nms.greedy(order, graph))


@pytest.mark.parametrize('seed', range(3))
def test_decode_same_with_and_without_compiled(monkeypatch, seed):
    """Trained-like outputs of SSD300 (the compiled lists) and flat ones (the
    shared graph): decode equals ChainerCV's either way."""
    ours = ssd300_coder()
    theirs = ChainerCVCoder((38, 19, 10, 5, 3, 1), ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)),
                            (8, 16, 32, 64, 100, 300), (30, 60, 111, 162, 213, 264, 315),
                            (0.1, 0.2))
    theirs._default_bbox = ours._default_bbox.copy()
    rng = np.random.default_rng(seed)
    loc, conf = trained_like_outputs(ours._default_bbox, 21, rng)
    expected = theirs.decode(loc, conf, 0.45, 0.01)
    for compiled in (True, False):
        monkeypatch.setattr(nms, 'COMPILED', compiled)
        got = ours.decode(loc, conf, 0.45, 0.01)
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    assert len(expected[1]) > 50


def test_backend_named():
    assert nms_compiled.backend().startswith('numba ')
