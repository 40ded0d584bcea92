"""Decoding with the shared suppression graph against ChainerCV's decode
(per-class threshold + NMS): bit-identical boxes, labels, scores and order;
and what the Caffe-style caps do."""
import warnings

import numpy as np
import pytest

import replicate
from replicate.bench.synthetic import flat_outputs, trained_like_outputs
from replicate.ssd.nms import multiclass_nms
from replicate.ssd.ssd300 import ASPECT_RATIOS, SIZES, STEPS, VARIANCE

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from chainercv.links.model.ssd import MultiboxCoder as ChainerCVCoder
    from chainercv.utils import non_maximum_suppression as cv_nms

GRIDS = (38, 19, 10, 5, 3, 1)
#: a small SSD geometry (380 default boxes): ChainerCV's NMS is quadratic
SMALL = dict(grids=(8, 4, 2, 1), aspect_ratios=((2,), (2, 3), (2, 3), (2,)),
             steps=(8, 16, 32, 64), sizes=(30, 60, 111, 162, 213))


def coders(grids, aspect_ratios, steps, sizes):
    ours = replicate.MultiboxCoder(grids, aspect_ratios, steps, sizes, VARIANCE)
    theirs = ChainerCVCoder(grids, aspect_ratios, steps, sizes, VARIANCE)
    theirs._default_bbox = ours._default_bbox.copy()  # the NMS is under test here
    return ours, theirs


def assert_same_decode(ours, theirs, mb_loc, mb_conf, nms_thresh, score_thresh):
    got = ours.decode(mb_loc, mb_conf, nms_thresh, score_thresh)
    expected = theirs.decode(mb_loc, mb_conf, nms_thresh, score_thresh)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    return got


@pytest.mark.parametrize('seed', range(3))
@pytest.mark.parametrize('nms_thresh', [0.3, 0.45, 0.7])
def test_flat_scores_many_classes(seed, nms_thresh):
    """Every score passes: the worst case, 40 classes."""
    ours, theirs = coders(**SMALL)
    mb_loc, mb_conf = flat_outputs(380, 41, np.random.default_rng(seed))
    bbox, label, _ = assert_same_decode(ours, theirs, mb_loc, mb_conf, nms_thresh, 0.01)
    assert len(np.unique(label)) == 40 and len(bbox) > 40 * 20


def test_ties_and_duplicate_boxes():
    """Quantised logits and offsets: equal scores and identical boxes abound."""
    ours, theirs = coders(**SMALL)
    rng = np.random.default_rng(5)
    mb_loc = np.zeros((380, 4), dtype=np.float32)
    mb_loc[::3] = rng.integers(-2, 3, (len(mb_loc[::3]), 4)) / 4
    mb_conf = rng.integers(0, 3, (380, 21)).astype(np.float32)
    for thresh in (0.2, 0.45, 1.0):
        assert_same_decode(ours, theirs, mb_loc, mb_conf, thresh, 0.05)


def test_degenerate_boxes_and_thresholds():
    """Zero-area and overflowing boxes, thresholds 0 and None."""
    ours, theirs = coders(**SMALL)
    mb_loc, mb_conf = flat_outputs(380, 6, np.random.default_rng(9))
    mb_loc[::7, 2] = -1e4  # exp underflows: zero height
    mb_loc[::11, 3] = 1e4  # exp overflows: infinite width
    with np.errstate(over='ignore', invalid='ignore'):
        for nms_thresh in (0.0, 0.45, None):
            assert_same_decode(ours, theirs, mb_loc, mb_conf, nms_thresh, 0.01)


@pytest.mark.parametrize('seed', range(2))
def test_trained_like_full_ssd300(seed):
    ours, theirs = coders(GRIDS, ASPECT_RATIOS, STEPS, SIZES)
    mb_loc, mb_conf = trained_like_outputs(ours._default_bbox, 21, np.random.default_rng(seed))
    for score_thresh in (0.01, 0.6):
        bbox, _, score = assert_same_decode(ours, theirs, mb_loc, mb_conf, 0.45, score_thresh)
        assert len(bbox) > 0 and score.max() > 0.9


def caps_reference(bbox, score, thresh, score_thresh, nms_top_k, keep_top_k):
    """The caps applied around ChainerCV's NMS: per class the nms_top_k best
    candidates (ChainerCV's visiting order), then the keep_top_k best overall
    (stable: lower class, then higher rank first)."""
    index, label = [], []
    for l in range(score.shape[1]):
        mask = np.flatnonzero(score[:, l] >= score_thresh)
        top = mask[np.argsort(score[mask, l])[::-1][:nms_top_k]]
        kept = top[cv_nms(bbox[top], thresh, score[top, l])]
        index += kept.tolist()
        label += [l] * len(kept)
    index, label = np.array(index), np.array(label)
    best = np.sort(np.argsort(-score[index, label], kind='stable')[:keep_top_k])
    return index[best], label[best]


def test_caps_against_reference():
    ours, _ = coders(**SMALL)
    mb_loc, mb_conf = flat_outputs(380, 11, np.random.default_rng(2))
    bbox = ours.decode_boxes(mb_loc)
    score = np.exp(mb_conf)
    score = (score / score.sum(axis=1, keepdims=True))[:, 1:]
    for nms_top_k, keep_top_k in ((400, 200), (50, 300), (20, 7)):
        got = multiclass_nms(bbox, score, 0.45, 0.01, nms_top_k, keep_top_k)
        expected = caps_reference(bbox, score, 0.45, 0.01, nms_top_k, keep_top_k)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        assert len(got[0]) == min(keep_top_k, len(got[0]))
    # caps above the counts change nothing
    uncapped = multiclass_nms(bbox, score, 0.45, 0.01)
    capped = multiclass_nms(bbox, score, 0.45, 0.01, 380, 10 ** 6)
    for a, b in zip(uncapped, capped, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_flat_scores_full_ssd300():
    """The worst case at full size (ChainerCV needs 10-50 s for it)."""
    ours, theirs = coders(GRIDS, ASPECT_RATIOS, STEPS, SIZES)
    mb_loc, mb_conf = flat_outputs(8732, 21, np.random.default_rng(0))
    bbox, _, _ = assert_same_decode(ours, theirs, mb_loc, mb_conf, 0.45, 0.01)
    assert len(bbox) > 20000


@pytest.mark.parametrize('pack, chunk, dense_size', [(64, 96, 1024), (4, 8, 30), (0, 5, 0)])
def test_every_strategy_same_as_chainercv(pack, chunk, dense_size, monkeypatch):
    """Short lists packed together, chunked dense lists, a graph per list and
    one shared graph: each path on its own gives ChainerCV's result."""
    from replicate.ssd import nms
    monkeypatch.setattr(nms, 'PACK', pack)
    monkeypatch.setattr(nms, 'CHUNK', chunk)
    monkeypatch.setattr(nms, 'DENSE_SIZE', dense_size)
    ours, theirs = coders(GRIDS, ASPECT_RATIOS, STEPS, SIZES)
    mb_loc, mb_conf = trained_like_outputs(ours._default_bbox, 21, np.random.default_rng(4))
    assert_same_decode(ours, theirs, mb_loc, mb_conf, 0.45, 0.01)
    ours_small, theirs_small = coders(**SMALL)
    mb_loc, mb_conf = flat_outputs(380, 8, np.random.default_rng(4))  # one shared graph
    assert_same_decode(ours_small, theirs_small, mb_loc, mb_conf, 0.45, 0.01)
