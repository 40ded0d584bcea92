"""compare.detections: the common format and its row/record forms."""
import json

import numpy as np
import pytest

from compare.detections import Detections, detections_from_record, image_record


def _sample():
    return Detections([[1, 2, 3, 4], [5.5, 6, 7, 8]], [3, 0], ['cat', 'dog'], [0.9, 0.25])


def test_fields_are_normalised_to_dtypes_and_shapes():
    d = _sample()
    assert d.boxes.dtype == np.float32 and d.boxes.shape == (2, 4)
    assert d.labels.dtype == np.int32 and d.scores.dtype == np.float32
    assert d.names == ('cat', 'dog') and len(d) == 2


def test_lengths_must_agree():
    with pytest.raises(ValueError, match='lengths differ'):
        Detections([[0, 0, 1, 1]], [1, 2], ['a', 'b'], [0.5, 0.5])


def test_rows_round_trip_and_carry_detector_and_image():
    d = _sample()
    rows = d.to_rows(detector='x', image='a/b.png')
    assert rows[1] == {'detector': 'x', 'image': 'a/b.png', 'y_min': 5.5, 'x_min': 6.0,
                       'y_max': 7.0, 'x_max': 8.0, 'label': 0, 'name': 'dog', 'score': 0.25}
    back = Detections.from_rows(rows)
    np.testing.assert_array_equal(back.boxes, d.boxes)
    np.testing.assert_array_equal(back.labels, d.labels)
    np.testing.assert_array_equal(back.scores, d.scores)
    assert back.names == d.names


def test_empty_round_trip():
    empty = Detections.empty()
    assert len(empty) == 0 and empty.boxes.shape == (0, 4)
    assert len(Detections.from_rows(empty.to_rows())) == 0


def test_clipped_keeps_boxes_inside_the_image():
    d = Detections([[-3, -1, 50, 70]], [1], ['a'], [1.0]).clipped(40, 60)
    np.testing.assert_array_equal(d.boxes, [[0, 0, 40, 60]])


def test_image_record_is_json_and_inverts():
    record = image_record('x.jpg', 10, 20, _sample(), {'inference': np.float64(0.5)})
    text = json.dumps(record)
    again = json.loads(text)
    assert again['height'] == 10 and again['width'] == 20 and again['times'] == {'inference': 0.5}
    np.testing.assert_array_equal(detections_from_record(again).boxes, _sample().boxes)
