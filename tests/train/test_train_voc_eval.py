"""Our VOC AP computes what ChainerCV's eval_detection_voc computes."""
import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.simplefilter('ignore', SyntaxWarning)
    from chainercv.evaluations import eval_detection_voc as cv_eval
    from chainercv.utils import generate_random_bbox

from replicate.ssd.voc_eval import eval_detection_voc


def random_detections(seed, n_image=12, n_class=4):
    """Ground truth with some difficult boxes; detections jittered from it
    plus noise, with distinct scores (ties may be ordered differently)."""
    rng = np.random.default_rng(seed)
    preds, gts = ([], [], []), ([], [], [])
    scores = rng.permutation(n_image * 40) / (n_image * 40.0)
    used = 0
    for _ in range(n_image):
        n_gt = int(rng.integers(0, 5))
        gt_bbox = generate_random_bbox(n_gt, (200, 200), 10, 80)
        gt_label = rng.integers(0, n_class, n_gt).astype(np.int32)
        gt_difficult = rng.random(n_gt) < 0.2
        jitter = gt_bbox + rng.normal(0, 6, gt_bbox.shape).astype(np.float32)
        noise = generate_random_bbox(int(rng.integers(0, 6)), (200, 200), 10, 80)
        bbox = np.concatenate((jitter, jitter[:1], noise))
        label = np.concatenate((gt_label, gt_label[:1],
                                rng.integers(0, n_class, len(noise)))).astype(np.int32)
        score = scores[used:used + len(bbox)].astype(np.float32)
        used += len(bbox)
        for lists, arrays in zip(preds + gts, (bbox, label, score, gt_bbox, gt_label,
                                               gt_difficult), strict=True):
            lists.append(arrays)
    return preds, gts


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('use_07_metric', [True, False])
def test_equals_chainercv(seed, use_07_metric):
    (bboxes, labels, scores), (gt_bboxes, gt_labels, gt_difficults) = random_detections(seed)
    expected = cv_eval(bboxes, labels, scores, gt_bboxes, gt_labels, gt_difficults,
                       use_07_metric=use_07_metric)
    got = eval_detection_voc(bboxes, labels, scores, gt_bboxes, gt_labels, gt_difficults,
                             use_07_metric=use_07_metric)
    np.testing.assert_allclose(got['ap'], expected['ap'], rtol=1e-12, atol=1e-12)
    assert got['map'] == pytest.approx(expected['map'], abs=1e-12)
    assert 0 < got['map'] < 1


def test_perfect_detections_score_one():
    gt = [np.array([[10, 10, 50, 60], [70, 20, 90, 90]], np.float32)]
    labels = [np.array([0, 1], np.int32)]
    result = eval_detection_voc(gt, labels, [np.array([0.9, 0.8], np.float32)], gt, labels,
                                use_07_metric=True)
    np.testing.assert_allclose(result['ap'], [1, 1])


def test_lengths_must_match():
    with pytest.raises(ValueError, match='one entry per image'):
        eval_detection_voc([], [], [], [np.zeros((0, 4))], [np.zeros(0)])
