"""Every input type of the OD API exporters and both TF generations, loaded
from the paths a user passes: real exports committed under tests/fixtures
(random weights, made by tools/make_odapi_export.sh, see
tests/fixtures/README.md).

The two folders below are committed packed, as
tests/fixtures/odapi_exports.tar.xz (36 MB of exports, 1.7 MB packed:
tools/pack_odapi_fixtures.py), and unpacked once per test session.

- odapi_input_types/<type>/: TF2 exports of the very weights of
  odapi_ssd_mobilenet_v2 (the image_tensor export), with the three other
  input types: given the same pixels, all four give the same detections.
- odapi_tf1_zoo/<type>/: TF1 exports in the TF1 model zoo's layout
  (frozen graph, saved_model/ with input ``inputs``, model.ckpt.*), one
  weight set for the three TF1 input types.
"""
import os
import tarfile
import tempfile

import numpy as np
import pytest
from conftest import FIXTURES, loaded
from PIL import Image

from compare.images import load_image
from replicate.tolerances import ODAPI_FIXTURE

pytestmark = pytest.mark.tf

ARCHIVE = os.path.join(FIXTURES, 'odapi_exports.tar.xz')
_UNPACKED = tempfile.TemporaryDirectory(prefix='odapi_exports_')


def _unpack():
    """The archive's folders, unpacked into a temporary folder removed at
    exit; only regular files and folders under the two roots are taken."""
    root = _UNPACKED.name
    if not os.listdir(root):
        with tarfile.open(ARCHIVE, 'r:xz') as archive:
            members = archive.getmembers()
            assert all((m.isfile() or m.isdir()) and m.name.split('/')[0] in
                       ('odapi_input_types', 'odapi_tf1_zoo') and '..' not in m.name.split('/')
                       for m in members)
            archive.extractall(root, members=members)
    return root


INPUT_TYPES = os.path.join(_unpack(), 'odapi_input_types')
TF1_ZOO = os.path.join(_unpack(), 'odapi_tf1_zoo')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """Two PNGs of one size (a batch), a PNG of another size, a JPEG: as the
    runner gives them to TF adapters (LoadedImage, with the file bytes)."""
    folder = tmp_path_factory.mktemp('images')
    rng = np.random.RandomState(5)
    files = []
    for index, (shape, suffix) in enumerate([((90, 120, 3), 'png'), ((90, 120, 3), 'png'),
                                             ((70, 50, 3), 'png'), ((96, 128, 3), 'jpg')]):
        # smooth noise, so the JPEG decoders disagree only a little
        small = rng.randint(0, 256, (shape[0] // 8 + 1, shape[1] // 8 + 1, 3), np.uint8)
        image = Image.fromarray(small).resize(shape[1::-1], Image.BILINEAR)
        path = folder / '{}.{}'.format(index, suffix)
        image.save(path, quality=90)
        files.append(load_image(str(path)))
    return files


def same_detections(found, expected, atol=1e-3):
    """Two lists of Detections agree: names, labels, scores and boxes (pixels)."""
    assert len(found) == len(expected)
    for a, b in zip(found, expected, strict=True):
        assert len(a) == len(b) > 0
        assert a.names == b.names
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=atol)


@pytest.fixture(scope='module')
def reference(real_export, images):
    """The image_tensor export's detections on the PIL pixels."""
    return real_export.predict([np.asarray(image) for image in images]).detections


@pytest.fixture(scope='module')
def tf2_exports():
    """``{input type: loaded adapter}`` of odapi_input_types/ (default decode)."""
    return {input_type: loaded('tf:{}/{}'.format(INPUT_TYPES, input_type))
            for input_type in ('float_image_tensor', 'encoded_image_string_tensor', 'tf_example')}


@pytest.mark.parametrize('input_type', ['float_image_tensor', 'encoded_image_string_tensor',
                                        'tf_example'])
def test_every_tf2_input_type_gives_the_image_tensor_detections(input_type, images, reference,
                                                                tf2_exports, monkeypatch):
    """decode=pil: the string inputs get a PNG of the PIL pixels."""
    adapter = tf2_exports[input_type]
    monkeypatch.setattr(adapter, 'decode', 'pil')
    assert adapter.name == 'tf-' + input_type
    info = adapter.info().info
    assert info['format'].startswith('TF2 SavedModel') and info['pixels'] == 'PIL'
    assert info['input'].startswith(input_type + ' (input_tensor)')
    assert info['batching'] == 'images of one size per call'
    prediction = adapter.predict(images)
    same_detections(prediction.detections, reference)
    assert prediction.times['inference'] > 0


@pytest.mark.parametrize('input_type', ['encoded_image_string_tensor', 'tf_example'])
def test_string_inputs_decode_the_files_themselves(input_type, images, reference, real_export,
                                                   tf2_exports, monkeypatch):
    """Their default (decode=tf) feeds the file bytes: PNGs decode to PIL's
    pixels exactly; the JPEG to TensorFlow's decoding of it, which is what
    the image_tensor export gives with decode=tf."""
    import tensorflow as tf
    adapter = tf2_exports[input_type]
    assert adapter.info().info['pixels'] == 'TF'
    found = adapter.predict(images).detections
    same_detections(found[:3], reference[:3])
    jpeg = images[3]
    tf_pixels = tf.io.decode_image(jpeg.encoded, channels=3).numpy()
    assert np.abs(tf_pixels.astype(int) - np.asarray(jpeg, int)).max() > 0  # decoders differ
    same_detections(found[3:], real_export.predict([tf_pixels]).detections)
    monkeypatch.setattr(real_export, 'decode', 'tf')
    same_detections(real_export.predict([jpeg]).detections, found[3:])


def tf1_folder(input_type):
    return os.path.join(TF1_ZOO, input_type)


@pytest.fixture(scope='module')
def tf1_reference(images):
    """The TF1 image_tensor export (frozen graph) on the PIL pixels."""
    adapter = loaded('tf1:' + tf1_folder('image_tensor'))
    info = adapter.info().info
    assert info['format'] == 'TF1 frozen graph (OD API export)'
    assert info['input'].startswith('image_tensor (image_tensor:0)')
    return adapter.predict([np.asarray(image) for image in images]).detections


def test_a_tf1_zoo_folder_runs_its_saved_model_as_its_frozen_graph(images, tf1_reference):
    folder = tf1_folder('image_tensor')
    adapter = loaded('tf:{}/saved_model/saved_model.pb'.format(folder))
    info = adapter.info().info
    assert info['format'] == 'TF1 SavedModel (OD API export, signature serving_default)'
    assert info['input'].startswith('image_tensor (inputs)')
    assert adapter.name == 'tf-image_tensor'  # the export's folder, not saved_model/
    same_detections(adapter.predict(images).detections, tf1_reference)


@pytest.mark.parametrize('input_type', ['encoded_image_string_tensor', 'tf_example'])
@pytest.mark.parametrize('kind', ['tf', 'tf1'])
def test_tf1_string_inputs_give_the_image_tensor_detections(kind, input_type, images,
                                                            tf1_reference):
    adapter = loaded('{}:{},decode=pil'.format(kind, tf1_folder(input_type)))
    key = 'inputs' if kind == 'tf' else input_type + ':0'
    assert adapter.info().info['input'].startswith('{} ({})'.format(input_type, key))
    same_detections(adapter.predict(images).detections, tf1_reference)


@pytest.mark.parametrize('input_type', ['image_tensor', 'encoded_image_string_tensor',
                                        'tf_example'])
def test_our_port_runs_every_tf1_zoo_folder(input_type, images, tf1_reference):
    """ours-odapi on the TF1 zoo layout (a 'checkpoint' file, model.ckpt.*,
    saved_model/ without variables): the frozen graph's network, whatever its
    input type, gives the TF1 export's detections."""
    adapter = loaded('ours-odapi:' + tf1_folder(input_type))
    info = adapter.info().info
    assert info['format'] == 'TF1 frozen graph (OD API export)'
    assert info['configuration']['configuration'].startswith('from the pipeline.config beside')
    found = adapter.predict([np.asarray(image) for image in images]).detections
    for a, b in zip(found, tf1_reference, strict=True):
        assert len(a) == len(b) > 0 and a.names == b.names
        # random weights: the fixtures' parity tolerance
        np.testing.assert_allclose(a.scores, b.scores, atol=ODAPI_FIXTURE)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=ODAPI_FIXTURE * 128)
