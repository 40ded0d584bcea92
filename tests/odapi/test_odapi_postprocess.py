"""Score conversion and the OD API's per-class NMS, on hand-made boxes."""
import numpy as np
import pytest

from replicate.odapi.config import PostProcessing
from replicate.odapi.postprocess import convert_scores, multiclass_nms, non_max_suppression

SQUARE = [0.0, 0.0, 1.0, 1.0]
HALF = [0.0, 0.0, 1.0, 0.5]   # IoU with SQUARE exactly 0.5
FAR = [2.0, 2.0, 3.0, 3.0]    # no overlap; entirely outside the [0, 1] window


def nms(boxes, scores, iou=0.5, score=0.0, limit=10):
    return non_max_suppression(np.array(boxes, np.float32), np.array(scores, np.float32),
                               iou, score, limit).tolist()


def test_suppression_needs_iou_strictly_above_the_threshold():
    assert nms([SQUARE, HALF], [0.9, 0.8], iou=0.5) == [0, 1]
    assert nms([SQUARE, HALF], [0.9, 0.8], iou=0.49) == [0]


def test_candidates_need_scores_strictly_above_the_threshold():
    assert nms([SQUARE, FAR], [0.3, 0.2], score=0.2) == [0]


def test_equal_scores_visit_the_lower_index_first_and_limit_caps():
    assert nms([HALF, SQUARE, FAR], [0.5, 0.5, 0.5], iou=0.4) == [0, 2]
    assert nms([HALF, SQUARE, FAR], [0.5, 0.5, 0.5], iou=0.6, limit=2) == [0, 1]


def test_multiclass_order_clip_and_caps():
    boxes = np.array([SQUARE, [0.5, 0.5, 1.5, 1.5], FAR], np.float32)
    scores = np.array([[0.9, 0.2], [0.4, 0.9], [0.8, 0.7]], np.float32)
    # 2 per class: FAR takes a slot of each class in NMS, then is dropped as it
    # clips to a zero-area box (as in TF: the slot is lost)
    two = multiclass_nms(boxes, scores, PostProcessing('SIGMOID', 1.0, 0.1, 0.5, 2, 3))
    assert two['anchor_indices'].tolist() == [0, 1] and two['classes'].tolist() == [0, 1]
    out = multiclass_nms(boxes, scores, PostProcessing('SIGMOID', 1.0, 0.1, 0.5, 3, 3))
    # equal scores 0.9: class 0 first; the total cap keeps 3 of the 4 left
    assert out['anchor_indices'].tolist() == [0, 1, 1]
    assert out['classes'].tolist() == [0, 1, 0]
    np.testing.assert_allclose(out['scores'], [0.9, 0.9, 0.4])
    np.testing.assert_allclose(out['boxes'][1], [0.5, 0.5, 1.0, 1.0])  # clipped to the window
    capped = multiclass_nms(boxes, scores, PostProcessing('SIGMOID', 1.0, 0.1, 0.5, 1, 1))
    assert capped['anchor_indices'].tolist() == [0]


def test_score_converters():
    logits = np.array([[0.0, 2.0, -1.0]], np.float32)
    np.testing.assert_allclose(convert_scores(logits, 'SIGMOID'), 1 / (1 + np.exp(-logits)),
                               rtol=1e-6)
    soft = convert_scores(logits, 'SOFTMAX', logit_scale=2.0)
    np.testing.assert_allclose(soft, np.exp(logits / 2) / np.exp(logits / 2).sum(), rtol=1e-6)
    with pytest.raises(ValueError, match='IDENTITY'):
        convert_scores(logits, 'IDENTITY')
