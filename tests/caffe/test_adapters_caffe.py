"""Kinds ``caffe`` (our Chainer build) and ``opencv-dnn`` (OpenCV's DNN) on
the same Caffe SSD files, through the harness (``-d`` specs, a run folder on
a tmp images folder): same detections, identity and resume, one-line errors."""
import json
import os
import shutil

import numpy as np
import pytest
from caffe_files import vgg_ssd300

from compare.adapters import build
from compare.errors import UserError
from compare.run import main as run_compare

IMAGES = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
QUICK = ['--no-progress', '--no-speed', '--no-score']


def run(capsys, *args):
    """``(exit status, stderr)`` of the harness in-process; never a traceback."""
    code = run_compare([str(a) for a in args])
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err
    return code, err


def records(out, name):
    with open(os.path.join(out, 'raw', name + '.jsonl')) as f:
        return {json.loads(line)['image']: json.loads(line)['detections'] for line in f}


def same_detections(ours, reference, atol_px):
    """Per image: the same count, classes and order; scores within 2e-5, boxes within atol_px."""
    assert ours.keys() == reference.keys()
    for image in ours:
        a, b = ours[image], reference[image]
        assert [(r['label'], r['name']) for r in a] == [(r['label'], r['name']) for r in b]
        np.testing.assert_allclose([r['score'] for r in a], [r['score'] for r in b], atol=2e-5)
        keys = ('y_min', 'x_min', 'y_max', 'x_max')
        np.testing.assert_allclose([[r[k] for k in keys] for r in a],
                                   [[r[k] for k in keys] for r in b], atol=atol_px)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A generated VGG-layout SSD300 (4 foreground classes) and a labelmap for it."""
    folder = tmp_path_factory.mktemp('tiny')
    prototxt, caffemodel = vgg_ssd300(width=4, n_class=5, seed=1).write(folder, 'ssd_tiny')
    labelmap = folder / 'labelmap.prototxt'
    labelmap.write_text(''.join('item {{ name: "{0}" label: {1} display_name: "{0}" }}\n'.format(
        name, i) for i, name in enumerate(('none_of_the_above', 'cat', 'dog', 'bird', 'fish'))))
    return prototxt, caffemodel, str(labelmap)


def test_the_face_detector_in_chainer_and_in_opencv_finds_the_same_faces(tmp_path, capsys):
    images = tmp_path / 'images'
    images.mkdir()
    shutil.copy(os.path.join(IMAGES, 'astronaut.jpg'), images / 'astronaut.jpg')
    out = tmp_path / 'run'
    code, err = run(capsys, images, '--out', out, '-d', 'caffe:res10-face', '-d',
                    'opencv-dnn:res10-face', *QUICK)
    assert code == 0, err
    ours, reference = records(out, 'caffe-res10-face'), records(out, 'opencv-dnn-res10-face')
    same_detections(ours, reference, atol_px=0.01)
    for found in ours.values():
        assert found[0]['name'] == 'face' and found[0]['score'] >= 0.94
    meta = json.loads((out / 'meta.json').read_text())
    infos = {d['name']: d for d in meta['detectors']}
    for name in ('caffe-res10-face', 'opencv-dnn-res10-face'):
        assert infos[name]['status'] == 'ok'
    identity = json.loads((out / 'raw' / 'caffe-res10-face.identity.json').read_text())
    assert identity['label_names'] == ['face'] and identity['weights'] == (
        '2a56a11a57a4a295956b0660b4a3d76bbdca2206c4961cea8efe7d95c7cb2f2d')
    assert identity['settings']['mean_bgr'] == [104, 177, 123]
    assert 'minus the mean B/G/R 104/177/123' in identity['settings']['input']


def test_user_files_labels_identity_and_resume(tiny, tmp_path, capsys):
    prototxt, caffemodel, labelmap = tiny
    images = tmp_path / 'images'
    images.mkdir()
    shutil.copy(os.path.join(IMAGES, 'coffee.jpg'), images / 'coffee.jpg')
    out = tmp_path / 'run'
    files = '{},weights={},labels={}'.format(prototxt, caffemodel, labelmap)
    specs = ['-d', 'caffe:' + files, '-d', 'opencv-dnn:' + files]
    assert run(capsys, images, '--out', out, *specs, *QUICK)[0] == 0
    ours, reference = records(out, 'caffe-ssd_tiny'), records(out, 'opencv-dnn-ssd_tiny')
    # a random network: end to end within 1e-4 of the largest value (see test_parity_opencv)
    same_detections(ours, reference, atol_px=0.2)
    names = {r['name'] for found in ours.values() for r in found}
    assert names and names <= {'cat', 'dog', 'bird', 'fish'}
    before = (out / 'raw' / 'caffe-ssd_tiny.jsonl').read_bytes()
    code, err = run(capsys, images, '--out', out, *specs, *QUICK)  # same files: resumed
    assert code == 0 and (out / 'raw' / 'caffe-ssd_tiny.jsonl').read_bytes() == before
    code, err = run(capsys, images, '--out', out, '-d', 'caffe:' + files + ',mean=1/2/3', *QUICK)
    assert code == 2 and 'settings.input, settings.mean_bgr' in err and '--force' in err
    # without labels: class_<id>, and another vocabulary is another detector
    plain = build('caffe:{},weights={}'.format(prototxt, caffemodel))
    plain.load()
    assert plain.info().label_names == ('class_1', 'class_2', 'class_3', 'class_4')


def test_spec_and_file_mistakes_are_one_line(tiny, tmp_path):
    prototxt, caffemodel, labelmap = tiny
    garbage = tmp_path / 'garbage.caffemodel'
    garbage.write_bytes(np.random.RandomState(0).bytes(256))
    names = tmp_path / 'names.txt'
    names.write_text('a\nb\n')
    from replicate.packaged import packaged_path
    face = packaged_path('res10_ssd300_face.caffemodel')  # another network's weights
    at_build = [
        ('caffe:', 'give caffe:PROTOTXT,weights=CAFFEMODEL or caffe:res10-face'),
        ('caffe:vgg300', 'vgg300 is not a file'),
        ('caffe:' + prototxt, 'weights= is not a file'),
        ('opencv-dnn:{},weights={}'.format(prototxt, tmp_path / 'none.caffemodel'),
         'none.caffemodel is not a file'),
        ('caffe:res10-face,weights=' + caffemodel, 'res10-face is a packaged model'),
        ('caffe:res10-face,labels=' + str(tmp_path / 'none.txt'), 'is not a file'),
        ('caffe:res10-face,mean=1/2', 'give three numbers B/G/R'),
        ('caffe:res10-face,colour=red', 'unknown option'),
    ]
    for spec, match in at_build:
        with pytest.raises(UserError, match=match) as info:
            build(spec)
        assert '\n' not in str(info.value)
    at_load = [
        ('caffe:{},weights={}'.format(prototxt, garbage), 'garbage.caffemodel'),
        # OpenCV's side: our strict reader first, then one run at load
        ('opencv-dnn:{},weights={}'.format(prototxt, garbage),
         'garbage.caffemodel: NetParameter at byte 0'),
        ('opencv-dnn:{},weights={}'.format(prototxt, face), 'OpenCV failed to run the network'),
        ('caffe:{},weights={}'.format(prototxt, face), "holds no blobs for this layer"),
        ('caffe:{},weights={},labels={}'.format(prototxt, caffemodel, names),
         'names 2 classes; the model has 4'),
        ('caffe:{},weights={}'.format(labelmap, caffemodel), 'field item is not supported'),
    ]
    for spec, match in at_load:
        with pytest.raises(UserError, match=match) as info:
            build(spec).load()
        assert '\n' not in str(info.value)
