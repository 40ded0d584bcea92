"""Ground truth loading: VOC XML (safely), COCO JSON, matching, clipping."""
import os

import numpy as np
import pytest
from test_score_fakerun import write_coco_json, write_voc_xml

from compare.errors import UserError
from compare.score.attach import attach
from compare.score.ground_truth import find_annotations, load_annotations

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<annotation><filename>&lol3;</filename></annotation>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><filename>&xxe;</filename></annotation>
"""


def test_voc_xml_is_made_zero_based_with_difficult(tmp_path):
    write_voc_xml(str(tmp_path / 'Annotations' / 'a.xml'), 'a.jpg', (40, 60),
                  [('cat', (11, 21, 31, 41), 0), ('dog', (1, 2, 3, 4), 1)])
    truths, vocabulary = load_annotations(str(tmp_path / 'Annotations'))
    (truth,) = truths
    assert truth.image == 'a.jpg' and truth.size == (40, 60)
    assert vocabulary == ('cat', 'dog')
    # VOC (xmin, ymin, xmax, ymax) 1-based -> (y_min, x_min, y_max, x_max) 0-based
    np.testing.assert_array_equal(truth.boxes, [[20, 10, 40, 30], [1, 0, 3, 2]])
    assert truth.boxes.dtype == np.float32
    assert truth.names == ('cat', 'dog')
    np.testing.assert_array_equal(truth.difficult, [False, True])


def test_coco_json_boxes_and_crowd(tmp_path):
    path = str(tmp_path / 'annotations.json')
    write_coco_json(path, {'a.jpg': (40, 60), 'b.jpg': (10, 10)},
                    [('a.jpg', 'couch', [5, 6, 10, 20], 0), ('a.jpg', 'tv', [0, 0, 4, 4], 1)],
                    ['couch', 'tv', 'person'])
    truths, vocabulary = load_annotations(path)
    assert vocabulary == ('couch', 'tv', 'person')
    assert [t.image for t in truths] == ['a.jpg', 'b.jpg']
    np.testing.assert_array_equal(truths[0].boxes, [[6, 5, 26, 15], [0, 0, 4, 4]])
    np.testing.assert_array_equal(truths[0].difficult, [False, True])
    assert truths[1].boxes.shape == (0, 4)


def test_find_annotations_in_order(tmp_path):
    images = tmp_path / 'JPEGImages'
    images.mkdir()
    assert find_annotations(str(images)) is None
    write_voc_xml(str(images / 'sub' / 'a.xml'), 'a.jpg', None, [])
    assert find_annotations(str(images)) == str(images)
    (tmp_path / 'Annotations').mkdir()
    assert find_annotations(str(images)) == str(tmp_path / 'Annotations')
    (images / 'annotations.json').write_text('{}')
    assert find_annotations(str(images)) == str(images / 'annotations.json')


@pytest.mark.parametrize('text, words', [
    (BILLION_LAUGHS, 'refused unsafe XML'), (EXTERNAL, 'refused unsafe XML'),
    ('<annotation><object>', 'malformed XML'),
    ('<annotation><object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax>'
     '<ymax>2</ymax></bndbox></object></annotation>', 'is not a number'),
    ('<annotation><object><name>cat</name></object></annotation>', 'no <bndbox>'),
    ('<html/>', 'expected <annotation>')])
def test_bad_xml_is_a_one_line_user_error_naming_the_file(tmp_path, text, words):
    path = tmp_path / 'bad.xml'
    path.write_text(text)
    with pytest.raises(UserError) as error:
        load_annotations(str(tmp_path))
    message = str(error.value)
    assert words in message and str(path) in message and '\n' not in message


def test_bad_coco_json_is_a_user_error(tmp_path):
    path = tmp_path / 'annotations.json'
    path.write_text('{"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [], '
                    '"annotations": [{"image_id": 2, "category_id": 1, "bbox": [0,0,1,1]}]}')
    with pytest.raises(UserError,
                       match=r'annotations\[0\]\.image_id is 2, which the file does not define'):
        load_annotations(str(path))
    path.write_text('{"images": [')
    with pytest.raises(UserError, match='malformed COCO JSON'):
        load_annotations(str(path))
    with pytest.raises(UserError, match='not found'):
        load_annotations(str(tmp_path / 'missing.json'))


def test_missing_image_skipped_and_boxes_clipped_or_rejected(tmp_path):
    folder = str(tmp_path / 'Annotations')
    write_voc_xml(os.path.join(folder, 'a.xml'), 'a.jpg', (40, 60),
                  [('cat', (51, 31, 71, 46), 0),    # partly outside -> clipped
                   ('dog', (62, 1, 70, 10), 0),     # wholly outside -> rejected
                   ('dog', (2, 2, 10, 10), 1)])
    write_voc_xml(os.path.join(folder, 'zzz.xml'), 'zzz.jpg', None, [('cat', (1, 1, 2, 2), 0)])
    truths, _ = load_annotations(folder)
    attached, warnings = attach(truths, {'sub/a.jpg': (40, 60), 'b.jpg': (5, 5)})
    assert list(attached) == ['sub/a.jpg']   # unique base name
    truth = attached['sub/a.jpg']
    np.testing.assert_array_equal(truth.boxes, [[30, 50, 40, 60], [1, 1, 9, 9]])
    assert truth.names == ('cat', 'dog')
    np.testing.assert_array_equal(truth.difficult, [False, True])
    text = '\n'.join(warnings)
    assert 'zzz.jpg names no image of the run; skipped' in text
    assert 'clipped to (30, 50, 40, 60)' in text
    assert 'wholly outside' in text
    assert len(warnings) == 3
    # an inverted box is a broken file, not a box to drop
    write_voc_xml(os.path.join(folder, 'a.xml'), 'a.jpg', (40, 60), [('cat', (11, 11, 5, 20), 0)])
    with pytest.raises(UserError, match='object 0 has ymin 11 > ymax 20 or xmin 11 > xmax 5'):
        load_annotations(folder)
