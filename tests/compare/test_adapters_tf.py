"""TF adapters against REAL TensorFlow artifacts: models built by
tf_builders.py (known outputs) and the real OD API exports committed under
tests/fixtures (session fixtures in conftest.py, shared with the contract
test, so TensorFlow and each model are loaded once)."""
import functools
import http.server
import json
import threading

import numpy as np
import pytest
import tf_builders
from conftest import REAL_EXPORT, REAL_FROZEN

from compare.adapters import build
from compare.errors import UserError
from compare.run import main as run_compare

pytestmark = pytest.mark.tf


def _images():
    rng = np.random.RandomState(1)
    return [rng.randint(0, 255, (48, 64, 3), np.uint8), rng.randint(0, 90, (31, 17, 3), np.uint8)]


def _check_against_builder(prediction, images, names):
    """Detections equal the builder's known outputs converted with numpy here."""
    assert len(prediction.detections) == len(images)
    for image, detections in zip(images, prediction.detections, strict=True):
        boxes, classes, scores, count = tf_builders.expected_outputs(image)
        height, width = image.shape[:2]
        np.testing.assert_allclose(detections.boxes, boxes[:count] * [height, width, height, width],
                                   rtol=1e-6)
        np.testing.assert_array_equal(detections.labels, classes[:count].astype(int))
        np.testing.assert_allclose(detections.scores, scores[:count], rtol=1e-5)
        assert detections.names == tuple(names[int(c)] for c in classes[:count])


def test_saved_model_export_folder(artifacts):
    adapter = build('tf:' + artifacts['export'])
    adapter.load()
    images = _images()
    _check_against_builder(adapter.predict(images), images, tf_builders.LABEL_MAP)
    info = adapter.info()
    assert info.random_weights is False and len(info.weights_sha256) == 64
    assert info.label_names == ('cat', 'dog', 'person') and 'CPU' in info.device


def test_saved_model_dir_itself_with_coco_labels(artifacts):
    adapter = build('tf:{}/saved_model,labels=coco,name=m'.format(artifacts['export']))
    adapter.load()
    detections = adapter.predict(_images()[:1]).detections[0]
    assert detections.names == ('person', 'bicycle', 'car')  # COCO ids 1, 2, 3


def test_wrong_signature_is_a_one_line_error(artifacts):
    with pytest.raises(UserError) as info:
        build('tf:' + artifacts['wrong']).load()
    message = str(info.value)
    assert artifacts['wrong'] in message and 'not an OD API detection export' in message
    assert 'inputs (images float32 [None, 8, 8, 3]) and outputs (logits)' in message
    assert 'input_tensor: uint8 [1, H, W, 3]' in message and '\n' not in message


def test_folder_without_saved_model(tmp_path):
    with pytest.raises(UserError, match='no saved_model/saved_model.pb or frozen_inference'):
        build('tf:' + str(tmp_path)).load()


def test_frozen_graph_matches_builder_and_saved_model(artifacts):
    adapter = build('tf1:' + artifacts['frozen'])
    adapter.load()
    images = _images()
    _check_against_builder(adapter.predict(images), images, tf_builders.LABEL_MAP)


def test_frozen_graph_errors(artifacts, tmp_path):
    with pytest.raises(UserError, match=r'not an OD API detection export: placeholders '
                                        r'\(images uint8 \[1, None, None, 3\]\).*one input '
                                        'named image_tensor or encoded_image_string_tensor'):
        build('tf1:' + artifacts['frozen_wrong']).load()
    junk = tmp_path / 'frozen_inference_graph.pb'
    junk.write_bytes(b'\x00\xffnot a graph')
    tf_builders.write_label_map(str(tmp_path))
    with pytest.raises(UserError, match='not a TF GraphDef'):
        build('tf1:' + str(junk)).load()


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_zoo_download_extract_and_run(artifacts, tmp_path, monkeypatch):
    server = _serve(artifacts['zoo'])
    try:
        monkeypatch.setenv('SSD_SUITE_TF_ZOO_URL',
                           'http://127.0.0.1:{}/'.format(server.server_address[1]))
        adapter = build('tfzoo:tiny_zoo_model', {'tf_zoo_dir': str(tmp_path / 'cache')})
        adapter.load()
    finally:
        server.shutdown()
    assert (tmp_path / 'cache' / 'tiny_zoo_model' / 'saved_model' / 'saved_model.pb').exists()
    detections = adapter.predict(_images()[:1]).detections[0]
    assert detections.names == ('person', 'bicycle', 'car')  # shipped COCO map
    assert adapter.info().info['origin'].endswith('/tiny_zoo_model.tar.gz')


def test_cli_runs_tf_and_records_tensorflow(artifacts, tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    from PIL import Image
    for i, image in enumerate(_images()):
        Image.fromarray(image).save(images / '{}.png'.format(i))
    out = tmp_path / 'run'
    code = run_compare([str(images), '--out', str(out), '--no-score', '--no-progress',
                     '-d', 'tf:' + artifacts['export'], '-d', 'fake:0',
                     '--repeats', '2', '--batch-sizes', '1,2'])
    assert code == 0
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['provenance']['version.tensorflow'][0].isdigit()
    statuses = {d['name']: d['status'] for d in meta['detectors']}
    assert statuses == {'tf-export': 'ok', 'fake': 'ok'}
    lines = (out / 'raw' / 'tf-export.jsonl').read_text().splitlines()
    first = json.loads(lines[0])
    assert first['image'] == '0.png' and (first['height'], first['width']) == (48, 64)
    assert first['detections'][0]['name'] == 'cat'
    timings = (out / 'raw' / 'timings.csv').read_text().splitlines()
    assert len(timings) == 1 + 2 * 2 * 2 * 4  # detectors x batch sizes x repeats x stages


def _check_real_export(adapter, image, direct):
    """Detections equal to the model's own outputs ``direct`` (numpy)."""
    height, width = image.shape[:2]
    detections = adapter.predict([image]).detections[0]
    count = int(direct['num_detections'][0])
    assert 0 < count == len(detections) <= 100
    np.testing.assert_allclose(detections.boxes, direct['detection_boxes'][0, :count] *
                               [height, width, height, width], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(detections.scores, direct['detection_scores'][0, :count])
    np.testing.assert_array_equal(detections.labels, direct['detection_classes'][0, :count])


def test_real_odapi_export(real_export):
    """Against the signature itself, loaded by TF2's own loader and called
    directly (the adapter loads the SavedModel into a session, as TF Serving)."""
    import tensorflow as tf
    image = np.random.RandomState(3).randint(0, 255, (120, 160, 3), np.uint8)
    function = tf.saved_model.load(REAL_EXPORT + '/saved_model').signatures['serving_default']
    direct = {k: v.numpy() for k, v in function(input_tensor=tf.constant(image[None])).items()}
    _check_real_export(real_export, image, direct)


def test_real_odapi_frozen_graph(real_frozen):
    import tensorflow as tf
    image = np.random.RandomState(4).randint(0, 255, (90, 140, 3), np.uint8)
    graph_def = tf.compat.v1.GraphDef()
    with open(REAL_FROZEN, 'rb') as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name='')
    keys = ('detection_boxes', 'detection_scores', 'detection_classes', 'num_detections')
    with tf.compat.v1.Session(graph=graph) as session:
        values = session.run([k + ':0' for k in keys], {'image_tensor:0': image[None]})
    _check_real_export(real_frozen, image, dict(zip(keys, values, strict=True)))
