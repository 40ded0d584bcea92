"""compare.detections: the common format and its row form; the raw record."""
import json

import numpy as np
import pytest

from compare.detections import Detections
from compare.rundir import ImageRecord, read_records


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


def test_rows_round_trip():
    d = _sample()
    rows = d.to_rows()
    assert rows[1] == {'y_min': 5.5, 'x_min': 6.0, 'y_max': 7.0, 'x_max': 8.0, 'label': 0,
                       'name': 'dog', 'score': 0.25}
    back = Detections.from_rows(rows)
    np.testing.assert_array_equal(back.boxes, d.boxes)
    np.testing.assert_array_equal(back.labels, d.labels)
    np.testing.assert_array_equal(back.scores, d.scores)
    assert back.names == d.names


def test_empty_round_trip():
    empty = Detections.from_rows([])
    assert len(empty) == 0 and empty.boxes.shape == (0, 4) and empty.boxes.dtype == np.float32
    assert empty.to_rows() == []


def test_clipped_keeps_boxes_inside_the_image():
    d = Detections([[-3, -1, 50, 70], [50, 70, 60, 80], [1, 2, 3, 4]], [1, 2, 3], 'abc',
                   [1.0, 0.5, 0.25]).clipped(40, 60)
    # a box wholly outside becomes a degenerate box on the border
    np.testing.assert_array_equal(d.boxes, [[0, 0, 40, 60], [40, 60, 40, 60], [1, 2, 3, 4]])
    assert d.names == ('a', 'b', 'c') and d.scores.tolist() == [1.0, 0.5, 0.25]


def test_image_record_is_one_json_line_and_inverts(tmp_path):
    times = {'preprocess': np.float64(0.25), 'inference': 0.5, 'postprocess': 1}
    record = ImageRecord('x.jpg', 10, 20, _sample(), times)
    line = record.to_json()
    assert '\n' not in line and json.loads(line)['times'] == {
        'preprocess': 0.25, 'inference': 0.5, 'postprocess': 1.0}
    path = tmp_path / 'a.jsonl'
    path.write_text(line + '\n')
    (again,), partial = read_records(str(path))
    assert not partial and (again.image, again.height, again.width) == ('x.jpg', 10, 20)
    np.testing.assert_array_equal(again.detections.boxes, _sample().boxes)
    assert again.detections.names == ('cat', 'dog') and again.times['postprocess'] == 1.0
