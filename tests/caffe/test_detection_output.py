"""DetectionOutput: decoding and NMS against hand-computed cases, each rule
of the original SSD's detection_output_layer.cpp / bbox_util.cpp in turn."""
import math

import numpy as np

from replicate.caffe import detection_output as D

PRIOR = np.float32([[0.1, 0.2, 0.5, 0.6]])
VAR = np.float32([[0.1, 0.1, 0.2, 0.2]])


def test_center_size_decoding_by_hand():
    loc = np.float32([[1, -1, 0.5, 0]])  # (x, y, w, h) offsets
    # prior: side 0.4, centre (0.3, 0.4); centre x = 0.1 * 1 * 0.4 + 0.3, y = -0.1 * 0.4 + 0.4
    half_w = 0.4 * math.exp(0.2 * 0.5) / 2
    np.testing.assert_allclose(D.decode(loc, PRIOR, VAR)[0],
                               [0.34 - half_w, 0.36 - 0.2, 0.34 + half_w, 0.36 + 0.2], atol=1e-7)
    # variance_encoded_in_target: no variance factors; centre (1 * 0.4 + 0.3, -0.4 + 0.4)
    half_w = 0.4 * math.exp(0.5) / 2
    np.testing.assert_allclose(D.decode(loc, PRIOR, VAR, encoded=True)[0],
                               [0.7 - half_w, -0.2, 0.7 + half_w, 0.2], atol=1e-7)


def run(boxes, scores, **settings):
    """detect_one on corner boxes (priors with zero offsets decode to themselves)."""
    boxes = np.float32(boxes)
    n, c = len(boxes), np.asarray(scores).shape[1]
    s = D.DetectionSettings(num_classes=c, **settings)
    # zero offsets: the decoded box is the prior (up to float32 rounding)
    return D.detect_one(np.zeros(n * 4, np.float32), np.float32(scores).ravel(), boxes,
                        np.ones((n, 4), np.float32), s)


def test_suppression_is_strictly_above_the_threshold():
    boxes = [[0, 0, 1, 1], [0.5, 0, 1.5, 1]]  # IoU 1/3
    iou = D.overlap(np.float32(boxes[0]), np.float32(1), np.float32(boxes[1:]),
                    np.float32([1]))[0]
    assert abs(iou - 1 / 3) < 1e-7
    scores = [[0, 0.9], [0, 0.8]]
    assert run(boxes, scores, nms_threshold=float(iou))['index'].tolist() == [0, 1]
    below = float(np.nextafter(iou, np.float32(0)))
    assert run(boxes, scores, nms_threshold=below)['index'].tolist() == [0]


def test_candidates_threshold_ties_and_top_k():
    boxes = [[i, 0, i + 0.5, 1] for i in range(5)]  # disjoint
    scores = [[0, s] for s in (0.5, 0.7, 0.5, 0.2, 0.7)]
    found = run(boxes, scores, confidence_threshold=0.2, nms_threshold=0.5)
    # strictly above 0.2; equal scores keep prior order (a stable sort)
    assert found['index'].tolist() == [1, 4, 0, 2]
    np.testing.assert_array_equal(found['scores'], np.float32([0.7, 0.7, 0.5, 0.5]))
    assert run(boxes, scores, top_k=3)['index'].tolist() == [1, 4, 0]
    np.testing.assert_allclose(found['boxes'][0], boxes[1], atol=1e-7)


def test_eta_lowers_the_threshold_after_each_kept_box():
    boxes = [[0, 0, 1, 1], [10, 0, 11, 1], [0.4, 0, 1.4, 1]]  # IoU(0, 2) = 0.6 / 1.4
    scores = [[0, 0.9], [0, 0.8], [0, 0.7]]
    assert run(boxes, scores, nms_threshold=0.6)['index'].tolist() == [0, 1, 2]
    # 0.6 * 0.8 = 0.48 after the first kept box: > 0.5 is false, so it stays 0.48
    # and 0.6 / 1.4 = 0.43 survives; with eta 0.7: 0.42 -> box 2 is suppressed
    assert run(boxes, scores, nms_threshold=0.6, eta=0.8)['index'].tolist() == [0, 1, 2]
    assert run(boxes, scores, nms_threshold=0.6, eta=0.7)['index'].tolist() == [0, 1]


def test_classes_background_and_keep_top_k():
    boxes = [[0, 0, 1, 1], [2, 0, 3, 1], [4, 0, 5, 1]]
    scores = [[0.9, 0.05, 0.6], [0.1, 0.8, 0.3], [0.2, 0.4, 0.5]]  # class 0 = background
    found = run(boxes, scores, confidence_threshold=0.25)
    # grouped by class ascending, by descending score inside; class 0 never appears
    assert found['labels'].tolist() == [1, 1, 2, 2, 2]
    assert found['index'].tolist() == [1, 2, 0, 2, 1]
    top = run(boxes, scores, confidence_threshold=0.25, keep_top_k=3)
    # the three best over all classes: 0.8 (1), 0.6 (2), 0.5 (2)
    assert top['labels'].tolist() == [1, 2, 2] and top['index'].tolist() == [1, 0, 2]
    none = run(boxes, [[0.5, 0.1, 0.1]] * 3, background_label_id=-1, confidence_threshold=0.3)
    assert none['labels'].tolist() == [0, 0, 0]  # no background: class 0 is a class


def test_per_class_locations():
    priors = np.float32([[0, 0, 1, 1]])
    # share_location false: one (x, y, w, h) per class; class 1 moves right by 1 side
    loc = np.float32([0, 0, 0, 0, 10, 0, 0, 0])
    s = D.DetectionSettings(num_classes=2, share_location=False, confidence_threshold=0)
    found = D.detect_one(loc, np.float32([0.3, 0.7]), priors, np.float32([[0.1] * 4]), s)
    np.testing.assert_allclose(found['boxes'], [[1, 0, 2, 1]], atol=1e-7)


def test_a_batch_and_its_shapes_are_checked():
    s = D.DetectionSettings(num_classes=2, confidence_threshold=0.5)
    priors = np.float32([[[0, 0, 1, 1, 2, 2, 3, 3], [0.1] * 8]])
    out = D.detection_output(s, np.zeros((2, 8), np.float32),
                             np.float32([[0.1, 0.9, 0.9, 0.1], [0.9, 0.1, 0.2, 0.8]]), priors)
    assert [f['index'].tolist() for f in out] == [[0], [1]]
    try:
        D.detection_output(s, np.zeros((2, 4), np.float32), np.zeros((2, 4), np.float32), priors)
    except D.CaffeError as exc:
        assert 'do not fit 2 classes' in str(exc)
    else:
        raise AssertionError('a loc blob of the wrong size was accepted')
