"""The ours-odapi adapter: our Chainer port of the committed OD API export,
against the same export run by the tf adapter (session fixtures of
conftest.py, shared with the contract test)."""
import os
import shutil

import numpy as np
import pytest
from conftest import REAL_EXPORT, loaded

from compare.adapters import build
from compare.adapters.chainer_odapi import checkpoint_sha256
from compare.errors import UserError, is_user_error
from replicate.tolerances import ODAPI_PARITY

pytestmark = pytest.mark.tf


def _images():
    """A photo-sized noise image, a thin one and a smooth gradient."""
    rng = np.random.RandomState(5)
    yy, xx = np.meshgrid(np.linspace(0, 255, 240), np.linspace(0, 255, 320), indexing='ij')
    smooth = np.stack([yy, xx, 255 - yy], axis=2).astype(np.uint8)
    return [rng.randint(0, 256, (375, 500, 3), np.uint8),
            rng.randint(0, 256, (40, 300, 3), np.uint8), smooth]


def test_same_detections_as_the_export_in_tensorflow(real_export, real_port):
    """Same count, classes, names and order; boxes within ODAPI_PARITY of the
    image size, scores within ODAPI_PARITY (replicate.tolerances; the fixture's
    float32 parity tolerance is ODAPI_FIXTURE of each layer's scale,
    reports/parity/odapi_ssd_mobilenet_v2_cpu.md)."""
    images = _images()
    theirs, ours = real_export.predict(images), real_port.predict(images)
    for image, a, b in zip(images, ours.detections, theirs.detections, strict=True):
        assert len(a) == len(b) == 100
        assert a.names == b.names
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=ODAPI_PARITY)
        np.testing.assert_allclose(a.boxes, b.boxes, rtol=0,
                                   atol=ODAPI_PARITY * max(image.shape[:2]))


def test_info_names_the_weights_the_tf_detector_runs(real_export, real_port):
    info, tf_info = real_port.info(), real_export.info()
    prefix = os.path.join(REAL_EXPORT, 'saved_model', 'variables', 'variables')
    assert info.weights.endswith('odapi_ssd_mobilenet_v2/saved_model/variables/variables')
    assert info.weights_sha256 == checkpoint_sha256(prefix)
    assert info.info['saved_model_sha256'] == tf_info.weights_sha256
    assert info.label_names == tf_info.label_names == ('person', 'cat', 'dog')
    assert info.device == 'CPU (@numpy)' and 'BLAS' in info.threads
    assert info.info['image_size'] == '128x128' and info.info['anchors'] == 330
    assert info.info['score_threshold'] == 1e-08 and info.info['iou_threshold'] == 0.6


def test_checkpoint_sha256_covers_every_file_of_the_prefix_only(tmp_path):
    for name, data in (('ckpt-1.index', b'i'), ('ckpt-1.data-00000-of-00001', b'd'),
                       ('ckpt-10.index', b'other')):
        (tmp_path / name).write_bytes(data)
    before = checkpoint_sha256(str(tmp_path / 'ckpt-1'))
    (tmp_path / 'ckpt-10.index').write_bytes(b'changed')
    assert checkpoint_sha256(str(tmp_path / 'ckpt-1')) == before
    (tmp_path / 'ckpt-1.data-00000-of-00001').write_bytes(b'changed')
    assert checkpoint_sha256(str(tmp_path / 'ckpt-1')) != before


def test_coco_labels_and_a_name():
    adapter = loaded('ours-odapi:{},labels=coco,name=port'.format(REAL_EXPORT))
    assert adapter.name == 'port'
    names = set(adapter.predict(_images()[:1]).detections[0].names)
    assert names <= {'person', 'bicycle', 'car'} and len(names) > 1  # COCO ids 1, 2, 3


def _one_line_error(spec, *parts):
    with pytest.raises(Exception) as info:
        build(spec).load()
    assert is_user_error(info.value), repr(info.value)
    message = str(info.value)
    assert '\n' not in message
    for part in parts:
        assert part in message, message


def test_user_errors_are_one_line(tmp_path):
    _one_line_error('ours-odapi:' + str(tmp_path / 'nowhere'), 'nowhere is not a folder')
    bare = tmp_path / 'bare'
    bare.mkdir()
    (bare / 'label_map.pbtxt').write_text('item { id: 1 name: "a" }\n')
    _one_line_error('ours-odapi:' + str(bare), 'has no pipeline.config')
    no_labels = tmp_path / 'no_labels'
    shutil.copytree(REAL_EXPORT, no_labels, ignore=shutil.ignore_patterns('label_map.pbtxt'))
    _one_line_error('ours-odapi:' + str(no_labels), 'no label_map.pbtxt', 'labels=coco')
    # a TF2 export folder whose pipeline.config names the TF1 extractor (a TF1
    # frozen graph loads: tests/compare/test_adapters_odapi_frozen.py)
    slim = tmp_path / 'slim'
    shutil.copytree(REAL_EXPORT, slim)
    config = (slim / 'pipeline.config').read_text()
    (slim / 'pipeline.config').write_text(config.replace('ssd_mobilenet_v2_keras',
                                                         'ssd_mobilenet_v2'))
    _one_line_error('ours-odapi:{}'.format(slim), 'TF1 (slim) extractor')
    with pytest.raises(UserError, match='device=@cuda:0 .* use device=@numpy or device=@cupy:N'):
        build('ours-odapi:{},device=@cuda:0'.format(REAL_EXPORT))
    with pytest.raises(UserError, match='needs an export folder'):
        build('ours-odapi')


def test_a_missing_gpu_is_a_one_line_error():
    import chainer
    if chainer.backends.cuda.available:
        pytest.skip('CuPy is importable here')
    _one_line_error('ours-odapi:{},device=@cupy:0'.format(REAL_EXPORT), 'detector ours-odapi',
                    'device=@cupy:0: no usable CUDA GPU here', 'use device=@numpy')


@pytest.mark.gpu
def test_on_the_gpu_same_detections_as_on_the_cpu(real_port):
    """device=@cupy:0 (tox -e gpu): the same detections as @numpy, the GPU
    named in info."""
    adapter = loaded('ours-odapi:{},device=@cupy:0'.format(REAL_EXPORT))
    info = adapter.info()
    assert info.device.startswith('GPU @cupy:0 (') and 'CuPy' in info.threads
    images = _images()
    gpu, cpu = adapter.predict(images), real_port.predict(images)
    assert gpu.times['inference'] > 0
    for image, a, b in zip(images, gpu.detections, cpu.detections, strict=True):
        assert a.names == b.names
        np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=ODAPI_PARITY)
        np.testing.assert_allclose(a.boxes, b.boxes, rtol=0,
                                   atol=ODAPI_PARITY * max(image.shape[:2]))
