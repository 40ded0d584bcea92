"""The committed sample (``tox -e sample`` -> reports/sample/) answers with
trained weights first: its headline speaks, in this order, of the Caffe face
SSD300 in Chainer against OpenCV's DNN, of the TF1 SSDLite person detector in
TensorFlow against our Chainer port (each: identical or not, the AP of its
class, speed), then of the SSD300 identity check, under the random-weights
sentence. Read from findings.csv, as the report and the console show it."""
import csv
import os

import pytest

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'reports', 'sample')


def rows(name):
    path = os.path.join(SAMPLE, name)
    if not os.path.exists(path):
        pytest.skip('no committed sample: python3 -m tox -e sample writes it')
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def test_the_headline_speaks_of_the_trained_pairs_then_of_the_random_check():
    top = [r for r in rows('findings.csv') if r['level'] == '0']
    assert [r['topic'] for r in top[:3]] == ['pair', 'pair', 'random_weights'], top
    face, person, random = (r['text'] for r in top[:3])
    assert face.startswith('caffe-res10-face ') and ' opencv-dnn-res10-face (the Caffe SSD ' \
        'res10-face, a face detector: our Chainer build vs OpenCV\'s DNN): ' in face
    assert person.startswith('ours-odapi-ssdlite-person ') and ' tf1-ssdlite-person (the TF1 ' \
        'OD API export ssdlite-person, a person detector: our Chainer port vs TensorFlow): ' in \
        person
    for text, cls in ((face, 'face'), (person, 'person')):
        assert 'not bit for bit' in text or 'identical' in text
        assert 'AP for {} (VOC07 11-point, 3 annotated) '.format(cls) in text
        assert 'ms per image (p50, batch 1)' in text
    assert random.startswith('Random weights: ours, chainercv and their .common_nms variants '
                             'hold untrained weights')
    children = [r['text'] for r in rows('findings.csv')
                if r['level'] == '1' and r['topic'] == 'random_weights']
    assert children[0].startswith('ours == chainercv (SSD300: our Chainer code vs ChainerCV): ')
    pairs = {(r['detector_a'], r['detector_b']): r for r in rows('pairs.csv')}
    assert pairs['ours', 'chainercv']['identical'] == 'True'
