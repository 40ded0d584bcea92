"""The int8 reports' measures (replicate/bench/int8_accuracy.py): the
agreement table's matching and the raw-output error, on hand-made cases whose
answers are worked out by hand."""
import numpy as np
import pytest

from replicate.bench.int8_accuracy import agreement, raw_errors
from replicate.ssd.boxes import bbox_iou


def dets(*rows):
    """One image's detections from (y0, x0, y1, x1, label, score) rows."""
    a = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return a[:, :4].astype(np.float32), a[:, 4].astype(np.int32), a[:, 5].astype(np.float32)


def images(*per_image):
    return tuple(list(column) for column in zip(*per_image, strict=True))


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [0, 5, 10, 15], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(bbox_iou(a, b), [[1, 50 / 150, 0]])


def test_identical_detections_all_match():
    one = dets((0, 0, 10, 10, 0, 0.9), (5, 5, 20, 20, 1, 0.6))
    assert agreement(images(one), images(one)) == (2, 2, 2, 1.0, 0.0)


def test_label_iou_and_score_rules():
    ref = dets((0, 0, 10, 10, 0, 0.9),      # matched by a shifted box (IoU 0.667)
               (0, 0, 10, 10, 1, 0.8),      # the path gives label 0 only: unmatched
               (50, 50, 60, 60, 0, 0.2))    # below the score threshold: not counted
    got = dets((0, 2, 10, 12, 0, 0.7),
               (30, 30, 40, 40, 0, 0.5),    # no reference box near it
               (50, 50, 60, 60, 0, 0.1))
    count_ref, count_got, matched, mean_iou, score_diff = agreement(images(ref), images(got))
    assert (count_ref, count_got, matched) == (2, 2, 1)
    assert mean_iou == pytest.approx(80 / 120)
    assert score_diff == pytest.approx(0.2, abs=1e-6)


def test_one_path_box_serves_one_reference_box_highest_score_first():
    ref = dets((0, 0, 10, 10, 0, 0.5), (0, 0, 10, 10, 0, 0.9))
    got = dets((0, 0, 10, 10, 0, 0.4))
    assert agreement(images(ref), images(got))[:3] == (2, 1, 1)
    assert agreement(images(ref), images(got))[4] == pytest.approx(0.5, abs=1e-6)


def test_nothing_matched_and_images_kept_apart():
    ref, got = dets((0, 0, 10, 10, 0, 0.9)), dets()
    assert agreement(images(ref, got), images(got, ref)) == (1, 1, 0, '-', '-')


def test_raw_errors_worst_output():
    ref = [(np.array([1.0, -2.0]), np.array([4.0, 0.0]))]
    got = [(np.array([1.0, -2.0]), np.array([3.0, 0.0]))]
    worst_max, worst_rms = raw_errors(ref, got)
    assert worst_max == pytest.approx(0.25)
    assert worst_rms == pytest.approx(np.sqrt(0.5 / 8))
