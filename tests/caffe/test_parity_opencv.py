"""Our Chainer builds of Caffe SSDs against OpenCV's DNN on the same files,
through the parity tool's own comparison (:mod:`replicate.caffe.parity.rows`):
a generated VGG16-layout SSD300 (tiny channel counts, seeded weights) and the
packaged face detector on a real photograph."""
import os

import numpy as np
import pytest
from caffe_files import vgg_ssd, vgg_ssd300

from replicate.caffe import models, ssd
from replicate.caffe.parity import cli, rows
from replicate.parity import metrics

IMAGES = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
#: End-to-end rows of the random tiny network: its 8-channel layers amplify
#: float32 rounding (a location whose few active channels are small gets a
#: large relative error after the L2 normalization); each layer alone is held
#: to 1e-5 and the trained face detector to 1e-5 end to end.
TINY_END_TO_END = 1e-4


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    prototxt, caffemodel = vgg_ssd300(width=8, n_class=5, seed=3).write(
        tmp_path_factory.mktemp('vgg'), 'VGG_tiny_SSD_300x300')
    return prototxt, caffemodel, ssd.load(prototxt, caffemodel)


def photo(name):
    return cli.read_bgr([os.path.join(IMAGES, name)])[0]


def by_name(table):
    return {row['name']: row for row in table}


def test_tiny_vgg_ssd300_matches_opencv_layer_by_layer(tiny):
    prototxt, caffemodel, model = tiny
    # SSD300's source maps, Caffe's ceil pooling included (75 -> 38 after pool3)
    assert [model.net.shapes[name][2] for name in ('conv4_3_norm', 'fc7', 'conv6_2', 'conv7_2',
                                                   'conv8_2', 'conv9_2')] == [38, 19, 10, 5, 3, 1]
    assert model.n_priors == 8732 and model.settings.num_classes == 5
    table, counts = rows.compare_all(model, [photo('coffee.jpg')], prototxt, caffemodel, 1e-5)
    named = by_name(table)
    assert named['input']['verdict'] == metrics.EXACT
    layers = [layer.name for layer, _ in model.net.entries]
    for name in layers:
        assert named[rows.LOCAL_PREFIX + name]['scaled_err'] <= 1e-5, name
        assert named[name]['scaled_err'] <= TINY_END_TO_END, name
    for layer, _ in model.net.entries:
        if layer.type == 'PriorBox':  # Caffe's double-precision corners vs OpenCV's float32
            assert named[layer.name]['max_abs_err'] <= 1.2e-7
    assert counts['detections_ours'] == counts['detections_opencv'] and \
        counts['detections_ours'][0] > 5
    assert named['detections[0]/labels']['verdict'] == metrics.EXACT
    assert named['detections[0]/scores']['scaled_err'] <= TINY_END_TO_END
    assert named['detections[0]/boxes']['scaled_err'] <= TINY_END_TO_END
    # our DetectionOutput on OpenCV's own inputs: the same detections, scores bit for bit
    for key in ('labels', 'scores'):
        assert named['nms_on_reference[0]/' + key]['verdict'] == metrics.EXACT
    assert named['nms_on_reference[0]/boxes']['max_abs_err'] <= 3e-7


def test_the_packaged_face_detector_matches_opencv_on_a_photograph():
    prototxt, caffemodel, entry = models.resolve('res10-face')
    model = ssd.load(prototxt, caffemodel, entry.mean)
    image = photo('grace_hopper.jpg')
    table, counts = rows.compare_all(model, [image], prototxt, caffemodel, 1e-5)
    diverging = [row['name'] for row in table if row['verdict'] == metrics.DIVERGES]
    assert not diverging
    assert counts['detections_ours'] == counts['detections_opencv']
    bboxes, labels, scores = model.predict([image])
    assert labels[0][0] == 1 and scores[0][0] >= 0.94  # her face, first in Caffe's order
    y_min, x_min, y_max, x_max = bboxes[0][0]
    height, width = image.shape[:2]
    assert 0 < x_min < x_max < width and 0 < y_min < y_max < 0.6 * height  # upper part


def test_the_parity_command_writes_its_report(tiny, tmp_path, capsys):
    prototxt, caffemodel, _ = tiny
    out = tmp_path / 'report'
    code = cli.main([prototxt, caffemodel, '--out', str(out), '--images',
                     os.path.join(IMAGES, 'coffee.jpg'), '--rtol', '1e-4', '--rtol-reason',
                     'a random 8-channel network'])
    assert code == 0, capsys.readouterr()
    stem = out / 'caffe_VGG_tiny_SSD_300x300_cpu'
    text = (stem.parent / (stem.name + '.md')).read_text()
    assert '**PASS**' in text and '| Normalize (alone) | 1 |' in text
    assert 'Reason given for this tolerance: a random 8-channel network' in text
    csv = (stem.parent / (stem.name + '.csv')).read_text().splitlines()
    assert csv[0].startswith('name,shape,dtype') and len(csv) > 2 * 60


@pytest.mark.parametrize('argv, match', [
    (['nowhere.prototxt', 'nowhere.caffemodel'], 'nowhere.prototxt not found'),
    (['vgg-ssd300'], "unknown Caffe model name 'vgg-ssd300'; known: res10-face"),
    (['res10-face', '--mean', '1,2'], 'give three numbers'),
    (['res10-face', '--rtol', '1e-3'], 'say why with --rtol-reason'),
])
def test_the_parity_command_refuses_in_one_line(argv, match, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and match in err and err.count('\n') == 1


def test_an_ssd512_layout_builds_with_caffes_integer_prior_sizes(tmp_path):
    prototxt, caffemodel = vgg_ssd(512, width=4, n_class=3, seed=5).write(tmp_path, 'ssd512')
    model = ssd.load(prototxt, caffemodel)
    assert [model.net.shapes[name][2] for name in (
        'conv4_3_norm', 'fc7', 'conv6_2', 'conv7_2', 'conv8_2', 'conv9_2', 'conv10_2')] == \
        [64, 32, 16, 8, 4, 2, 1]
    assert model.n_priors == 24564
    table, counts = rows.compare_all(model, [photo('chelsea.jpg')], prototxt, caffemodel, 1e-5)
    named = by_name(table)
    for layer, _ in model.net.entries:
        if layer.type != 'PriorBox':
            assert named[rows.LOCAL_PREFIX + layer.name]['scaled_err'] <= 1e-5, layer.name
    # min_size 35.84 is 35 for Caffe (and ours), 35.84 for OpenCV: the first prior of
    # conv4_3_norm is 35 / 512 wide here; the largest difference is the ratio-2 box's
    # half width, (35.84 - 35) * sqrt(2) / 2 / 512
    priors = rows.our_layers(model, model.prepare([photo('chelsea.jpg')]))[
        'conv4_3_norm_mbox_priorbox'][0, 0]
    assert np.isclose(priors[2] - priors[0], 35 / 512, atol=1e-7)
    assert named['conv4_3_norm_mbox_priorbox']['max_abs_err'] == pytest.approx(
        0.84 * np.sqrt(2) / 2 / 512, rel=1e-3)
