"""The bundled sample (images/): every image annotated, every annotation
readable by the scorer's own reader and consistent with its image, the
images' SHA-256 as LICENSES.md records them, and the convention written down
(images/README.md)."""
import hashlib
import os
import re

import numpy as np
import pytest
from PIL import Image

from compare.adapters.chainer_ssd import VOC_NAMES
from compare.images import IMAGE_SUFFIXES
from compare.score.ground_truth import VOC_FOLDER, load_annotations, read_voc_xml

IMAGES = os.path.join(os.path.dirname(__file__), '..', 'images')
ANNOTATIONS = os.path.join(IMAGES, VOC_FOLDER)
#: The class names an annotation may use: VOC's, and a human face.
CLASSES = set(VOC_NAMES) | {'face'}


def image_names():
    return sorted(f for f in os.listdir(IMAGES) if f.lower().endswith(IMAGE_SUFFIXES))


def stem(name):
    return os.path.splitext(name)[0]


def truth_of(name):
    """The image's GroundTruth, boxes as written (VOC 1-based, no shift)."""
    xml = stem(name) + '.xml'
    return read_voc_xml(os.path.join(ANNOTATIONS, xml), xml, shift=0.0)


def test_the_sample_has_images():
    assert len(image_names()) >= 6


def test_every_image_has_one_annotation_and_every_annotation_an_image():
    xml_stems = sorted(stem(f) for f in os.listdir(ANNOTATIONS) if f.endswith('.xml'))
    assert xml_stems == sorted(stem(f) for f in image_names())
    # and the scorer reads the whole folder the way the sample job does
    truths, vocabulary = load_annotations(ANNOTATIONS)
    assert sorted(t.image for t in truths) == image_names()
    assert set(vocabulary) <= CLASSES


@pytest.mark.parametrize('name', image_names())
def test_annotation_fits_its_image(name):
    truth = truth_of(name)
    with Image.open(os.path.join(IMAGES, name)) as im:
        width, height = im.size
    assert truth.image == name
    assert truth.size == (height, width)
    assert set(truth.names) <= CLASSES, truth.names
    # (y_min, x_min, y_max, x_max), VOC 1-based inclusive: 1 <= min < max <= size
    boxes = truth.boxes
    assert np.all(boxes == np.round(boxes)), 'VOC pixel indices are integers'
    assert np.all(boxes[:, :2] >= 1) and np.all(boxes[:, 0] < boxes[:, 2])
    assert np.all(boxes[:, 1] < boxes[:, 3])
    assert np.all(boxes[:, 2] <= height) and np.all(boxes[:, 3] <= width)


@pytest.mark.parametrize('name', image_names())
def test_every_face_lies_in_a_person_box(name):
    truth = truth_of(name)
    names = np.array(truth.names, object)
    people = truth.boxes[names == 'person']
    for face in truth.boxes[names == 'face']:
        inside = ((people[:, :2] <= face[:2]) & (people[:, 2:] >= face[2:])).all(axis=1)
        assert inside.any(), 'face {} of {} is in no person box'.format(face, name)


def recorded_sha256():
    """``{file: sha256}`` from the ``<64 hex>  <file>`` lines of LICENSES.md."""
    text = open(os.path.join(IMAGES, 'LICENSES.md')).read()
    return {m.group(2): m.group(1) for m in re.finditer(r'^([0-9a-f]{64})  (\S+)$', text, re.M)}


def test_images_match_the_recorded_sha256():
    recorded = recorded_sha256()
    assert sorted(recorded) == image_names()
    for name in image_names():
        with open(os.path.join(IMAGES, name), 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == recorded[name], name


def test_every_image_has_a_source_and_licence_row():
    text = open(os.path.join(IMAGES, 'LICENSES.md')).read()
    for name in image_names():
        rows = [line for line in text.splitlines() if line.startswith('| {} |'.format(name))]
        assert len(rows) == 1, name
        cells = [cell.strip() for cell in rows[0].strip('|').split('|')]
        assert len(cells) == 5 and all(cells), rows[0]   # file, source, author, licence, changes


def test_readme_states_the_convention():
    text = open(os.path.join(IMAGES, 'README.md')).read()
    section = text.partition('\n## Annotation convention\n')[2]
    assert section, 'images/README.md has no "## Annotation convention" section'
    for words in ('**person**', '**face**', '`truncated`', '`difficult`', '`pose`',
                  '1-based'):
        assert words in section, words
    # the table of boxes says what the XML says
    for name in image_names():
        rows = [line for line in text.splitlines() if line.startswith('| {} |'.format(stem(name)))]
        assert len(rows) == 1, name
        listed = sorted((m[0], tuple(float(v) for v in m[1:])) for m in re.findall(
            r'([a-z]+) (\d+) (\d+) (\d+) (\d+)', rows[0].split('|')[2]))
        truth = truth_of(name)
        # boxes (y_min, x_min, y_max, x_max) -> the table's xmin ymin xmax ymax
        written = sorted((n, tuple(float(v) for v in b[[1, 0, 3, 2]]))
                         for n, b in zip(truth.names, truth.boxes, strict=True))
        assert listed == written, name
