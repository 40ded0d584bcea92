"""A class outside VOC and COCO ('face', as images/ annotates it) is scored
like any other: AP for a detector that emits 'face', excluded (not dropped
in silence) for one that cannot name it."""
import os

import pytest
from test_score_fakerun import det, entry, write_images, write_run, write_voc_xml

from compare.runner.scoring import score_run
from compare.score.classes import canonical

SIZES = {'a.png': (60, 80), 'b.png': (60, 80)}
# VOC 1-based boxes (xmin, ymin, xmax, ymax); a detection is 0-based
# (y_min, x_min, y_max, x_max): VOC (x0, y0, x1, y1) -> (y0 - 1, x0 - 1, y1 - 1, x1 - 1)
TRUTH = {'a.png': [('person', (11, 6, 50, 60), 0), ('face', (21, 9, 40, 30), 0)],
         'b.png': [('person', (41, 11, 70, 60), 0), ('face', (46, 14, 60, 28), 0),
                   ('face', (2, 2, 6, 6), 1)]}
FACES = {'a.png': [det(8, 20, 29, 39, 'face', 0.9),      # the face of a: hit
                   det(40, 60, 55, 75, 'face', 0.95)],    # nothing there: false positive
         'b.png': [det(13, 45, 27, 59, 'face', 0.6),      # the face of b: hit
                   det(1, 1, 5, 5, 'face', 0.99)]}        # the difficult face: ignored
PEOPLE = {'a.png': [det(5, 10, 59, 49, 'person', 0.8)], 'b.png': []}


@pytest.fixture(scope='module')
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp('faces')
    images = str(root / 'images')
    write_images(images, SIZES)
    for image, objects in TRUTH.items():
        write_voc_xml(os.path.join(images, 'Annotations', image[0] + '.xml'), image,
                      SIZES[image], objects)
    run_dir = write_run(str(root / 'out'), {'caffe_face': FACES, 'ssdlite_person': PEOPLE},
                        SIZES, [entry('caffe_face', ['face']),
                                entry('ssdlite_person', ['person'])], images_dir=images)
    return score_run(run_dir, score_thresh=0.0)


def test_face_is_its_own_canonical_class():
    assert canonical('face') == canonical('Face') == 'face'


def test_face_detector_gets_face_ap(tables):
    per_class = tables['map_per_class'].set_index(['detector', 'class'])
    row = per_class.loc[('caffe_face', 'face')]
    assert row['predictable'] and (row['gt'], row['gt_difficult'], row['detections']) == (2, 1, 4)
    # ranked: 0.99 on the difficult face (ignored), 0.95 FP, 0.9 TP, 0.6 TP: precision
    # 0, 1/2, 2/3 at recall 0, 1/2, 1; its monotone envelope is 2/3 over (0, 1]
    assert row['ap_voc'] == pytest.approx(2 / 3)
    # 11-point: max precision at recall >= t is 2/3 for every t
    assert row['ap_voc07'] == pytest.approx(2 / 3)
    summary = tables['map_summary'].set_index('detector').loc['caffe_face']
    assert summary['classes_evaluated'] == 1 and summary['detections_dropped'] == 0
    assert summary['map_voc'] == pytest.approx(2 / 3)
    assert summary['classes_excluded'] == 'person'


def test_person_detector_is_not_charged_for_faces(tables):
    per_class = tables['map_per_class'].set_index(['detector', 'class'])
    assert not per_class.loc[('ssdlite_person', 'face'), 'predictable']
    assert per_class.loc[('ssdlite_person', 'person'), 'ap_voc'] == pytest.approx(1 / 2)
    summary = tables['map_summary'].set_index('detector').loc['ssdlite_person']
    assert summary['classes_excluded'] == 'face' and summary['map_voc'] == pytest.approx(1 / 2)
    classes = tables['classes'].set_index('canonical')
    assert classes.loc['face', 'annotations'] == classes.loc['face', 'caffe_face'] == 'face'
