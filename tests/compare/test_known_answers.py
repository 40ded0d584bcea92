"""Known answers published by other projects' evaluator tests, at several IoUs.

Each case names its source and its convention; the data values are
transcribed from the source (with attribution), the code is ours. Compared
to 1e-6.
"""
import numpy as np
import pytest

from compare.score import conventions
from compare.score.evaluators import EvalSet, voc_ap

#: Source: rafaelpadilla/review_object_detection_metrics, tests/test_case_1/
#: (gts/*.txt: "class x y w h"; dets/*.txt: "class score x y w h") and
#: tests/test_eval_pascal.py (expected APs). Convention: PASCAL VOC, boxes
#: x2 = x + w, IoU and areas with the +1 pixel (their BoundingBox.iou), a
#: detection matched to the highest-IoU box of its image, IoU >= threshold:
#: our ``chainercv`` box convention.
PADILLA_GT = (
    [(25, 16, 38, 56), (129, 123, 41, 62)],
    [(123, 11, 43, 55), (38, 132, 59, 45)],
    [(16, 14, 35, 48), (123, 30, 49, 44), (99, 139, 47, 47)],
    [(53, 42, 40, 52), (154, 43, 31, 34)],
    [(59, 31, 44, 51), (48, 128, 34, 52)],
    [(36, 89, 52, 76), (62, 58, 44, 67)],
    [(28, 31, 55, 63), (58, 67, 50, 58)],
)
PADILLA_DETS = (
    [(.88, 5, 67, 31, 48), (.70, 119, 111, 40, 67), (.80, 124, 9, 49, 67)],
    [(.71, 64, 111, 64, 58), (.54, 26, 140, 60, 47), (.74, 19, 18, 43, 35)],
    [(.18, 109, 15, 77, 39), (.67, 86, 63, 46, 45), (.38, 160, 62, 36, 53),
     (.91, 105, 131, 47, 47), (.44, 18, 148, 40, 44)],
    [(.35, 83, 28, 28, 26), (.78, 28, 68, 42, 67), (.45, 87, 89, 25, 39),
     (.14, 10, 155, 60, 26)],
    [(.62, 50, 38, 28, 46), (.44, 95, 11, 53, 28), (.95, 29, 131, 72, 29),
     (.23, 29, 163, 72, 29)],
    [(.45, 43, 48, 74, 38), (.84, 17, 155, 29, 35), (.43, 95, 110, 25, 42)],
    [(.48, 16, 20, 101, 88), (.95, 33, 116, 37, 49)],
)
#: ``{iou: (11-point AP, every-point AP)}`` as published (10 decimals).
PADILLA_EXPECTED = {0.1: (0.3333333333, 0.3371980676), 0.3: (0.2683982683, 0.2456866804),
                    0.5: (0.0303030303, 0.0222222222), 0.75: (0.0, 0.0)}


def _yxyx(x, y, w, h):
    return [y, x, y + h, x + w]


def padilla_case():
    """The case as an EvalSet. Three scores are tied across images (.95, .45,
    .44); the source ranks tied detections in file order (a stable sort),
    ChainerCV's evaluator in the order numpy's argsort leaves them, so the
    later of each tie is lowered by 1e-9 to state the source's order."""
    seen, boxes, scores = set(), [], []
    for dets in PADILLA_DETS:
        boxes.append(np.array([_yxyx(*d[1:]) for d in dets], np.float32))
        mine = []
        for d in dets:
            mine.append(d[0] - 1e-9 if d[0] in seen else d[0])
            seen.add(d[0])
        scores.append(np.array(mine, np.float64))
    gt = [np.array([_yxyx(*g) for g in gts], np.float32) for gts in PADILLA_GT]
    n = len(gt)
    return EvalSet(('object',), [str(k) for k in range(n)], boxes,
                   [np.zeros(len(b), np.int32) for b in boxes], scores, gt,
                   [np.zeros(len(g), np.int32) for g in gt], [np.zeros(len(g), bool) for g in gt],
                   [(300, 300)] * n, 0)


@pytest.mark.parametrize('iou', sorted(PADILLA_EXPECTED))
def test_padilla_case_1_eleven_point_and_every_point_at_each_iou(iou):
    data = padilla_case()
    convention = conventions.get('chainercv', iou)
    eleven, every = PADILLA_EXPECTED[iou]
    assert voc_ap(data, True, convention)[1] == pytest.approx(eleven, abs=1e-6)
    assert voc_ap(data, False, convention)[1] == pytest.approx(every, abs=1e-6)


def test_padilla_case_1_ties_matter_and_are_stated():
    """With the scores rounded to two digits, detections tie, and the two
    opposite ways of breaking the ties give 11-point APs at IoU 0.3 more than
    0.01 apart: the order ties are visited in is a convention (numpy's
    argsort, reversed, as ChainerCV's; its tie order depends on the sort
    numpy picks for the processor), not noise."""
    aps = []
    for sign in (1, -1):
        data = padilla_case()
        # rounded, then the ties broken by list position, one way or the other
        data.pred_scores = [np.round(s, 2) + sign * 1e-9 * np.arange(len(s))
                            for s in data.pred_scores]
        aps.append(voc_ap(data, True, conventions.get('chainercv', 0.3))[1])
    assert abs(aps[0] - aps[1]) > 0.01, aps


def test_odapi_pascal_evaluator_case():
    """Source: tensorflow/models research/object_detection/utils/
    object_detection_evaluation_test.py, PascalEvaluationTest.
    test_returns_correct_metric_values_on_boxes (published: cat AP 0.16666666,
    mAP 0.05555555 over cat, dog, elephant). Convention: the OD API's (boxes
    (y_min, x_min, y_max, x_max) continuous, no +1, difficult ignored): our
    ``odapi`` box convention, IoU 0.5."""
    gt = [np.array([[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]], np.float32),
          np.array([[10, 10, 11, 11], [500, 500, 510, 510], [10, 10, 12, 12]], np.float32),
          np.array([[0, 0, 1, 1]], np.float32)]
    # classes 1 cat, 2 dog, 3 elephant -> labels 0, 1, 2
    gt_labels = [np.array([0, 2, 0], np.int32), np.array([0, 0, 2], np.int32),
                 np.array([1], np.int32)]
    difficult = [np.zeros(3, bool), np.array([False, True, False]), np.zeros(1, bool)]
    boxes = [np.zeros((0, 4), np.float32),
             np.array([[10, 10, 11, 11], [100, 100, 120, 120], [100, 100, 220, 220]],
                      np.float32), np.zeros((0, 4), np.float32)]
    labels = [np.zeros(0, np.int32), np.array([0, 0, 2], np.int32), np.zeros(0, np.int32)]
    scores = [np.zeros(0), np.array([0.7, 0.8, 0.9]), np.zeros(0)]
    data = EvalSet(('cat', 'dog', 'elephant'), ['img1', 'img2', 'img3'], boxes, labels, scores,
                   gt, gt_labels, difficult, [(600, 600)] * 3, 0)
    ap, mean = voc_ap(data, False, conventions.get('odapi'))
    assert ap[0] == pytest.approx(0.16666666, abs=1e-6)
    assert ap[1] == 0.0 and ap[2] == 0.0
    assert mean == pytest.approx(0.05555555, abs=1e-6)


@pytest.mark.parametrize('iou', [0, -0.1, 1.5, float('nan'), True])
def test_an_iou_outside_0_1_is_a_one_line_error(iou):
    from compare.errors import UserError
    with pytest.raises(UserError, match=r'--iou must be a number with 0 < IOU <= 1'):
        conventions.get('chainercv', iou)
