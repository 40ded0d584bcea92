"""The adapter contract (compare.adapters.protocol, compare.detections), held
by every kind: fake, ours, chainercv, tf, tf1, and tfzoo through a local
archive; and by the two real OD API exports, and our port of one (ours-odapi)."""
import dataclasses
import math

import numpy as np
import pytest
from conftest import CHAINER_THRESH, contract_images, loaded, score_thresh, timed_predict

from compare.adapters.protocol import ORDERS
from compare.detections import STAGES, Detections, DetectorInfo, Prediction

pytestmark = pytest.mark.tf


def _check_order(detections, order):
    scores, labels = detections.scores, detections.labels
    if order == 'score':
        assert (np.diff(scores) <= 0).all()
    else:  # class_then_score
        assert (np.diff(labels) >= 0).all()
        same = np.diff(labels) == 0
        assert (np.diff(scores)[same] <= 0).all()


def _check_image(detections, image, info, order):
    height, width = image.shape[:2]
    assert isinstance(detections, Detections)
    assert detections.boxes.dtype == np.float32 and detections.boxes.shape == (len(detections), 4)
    assert detections.labels.dtype == np.int32 and detections.scores.dtype == np.float32
    boxes = detections.boxes
    assert (boxes >= 0).all() and (boxes[:, 0] <= boxes[:, 2]).all()
    assert (boxes[:, 1] <= boxes[:, 3]).all()
    assert (boxes[:, 2] <= height).all() and (boxes[:, 3] <= width).all()
    assert set(detections.names) <= set(info.label_names)
    assert ((detections.scores >= 0) & (detections.scores <= 1)).all()
    _check_order(detections, order)


def check_contract(adapter, images, empty=None, predicted=None):
    """Every clause of the contract on a loaded adapter.

    Args:
        images: at least two images; the last one is also run alone.
        empty: a function of no arguments returning the Prediction of a call
            that must detect nothing, or None.
        predicted: :func:`timed_predict` of ``images`` if already made.
    """
    info = adapter.info()
    assert isinstance(info, DetectorInfo) and info.name == adapter.name
    assert info.weights and info.device and info.threads
    assert info.label_names and all(isinstance(n, str) for n in info.label_names)
    assert isinstance(info.random_weights, bool) and isinstance(info.info, dict)
    assert adapter.order in ORDERS
    batch, wall = predicted or timed_predict(adapter, images)
    assert isinstance(batch, Prediction) and len(batch.detections) == len(images)
    assert set(batch.times) == set(STAGES) and batch.times['inference'] > 0
    assert all(math.isfinite(t) and t >= 0 for t in batch.times.values())
    assert sum(batch.times.values()) <= wall
    for image, detections in zip(images, batch.detections, strict=True):
        _check_image(detections, image, info, adapter.order)
        assert len(detections) > 0  # a contract held by empty results would prove little
    # the last image of the batch, run alone: the same result
    alone, last = adapter.predict(images[-1:]).detections[0], batch.detections[-1]
    assert alone.names == last.names
    np.testing.assert_array_equal(alone.labels, last.labels)
    np.testing.assert_allclose(alone.scores, last.scores, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(alone.boxes, last.boxes, rtol=1e-5, atol=1e-3)
    if empty is not None:
        (nothing,) = empty().detections
        assert len(nothing) == 0 and nothing.boxes.shape == (0, 4) and nothing.names == ()
        assert nothing.boxes.dtype == np.float32 and nothing.labels.dtype == np.int32


def test_fake():
    image = np.zeros((10, 12, 3), np.uint8)
    check_contract(loaded('fake:4,count=6'), contract_images(),
                   lambda: loaded('fake:4,count=0').predict([image]))


@pytest.mark.parametrize('kind', ['ours', 'chainercv'])
def test_chainer_ssd(chainer_adapters, chainer_predictions, kind):
    adapter = chainer_adapters[kind]

    def nothing():
        with score_thresh(adapter, 1.01):
            return adapter.predict(contract_images()[:1])
    with score_thresh(adapter, CHAINER_THRESH):
        check_contract(adapter, contract_images(), nothing, chainer_predictions[kind])


BLACK = np.zeros((20, 30, 3), np.uint8)


def test_tf(artifacts):
    adapter = loaded('tf:' + artifacts['export'])
    check_contract(adapter, contract_images(), lambda: adapter.predict([BLACK]))


def test_tf1(artifacts):
    adapter = loaded('tf1:' + artifacts['frozen'])
    check_contract(adapter, contract_images(), lambda: adapter.predict([BLACK]))


def test_tfzoo_from_a_local_archive(artifacts, tmp_path):
    """The archive placed in the cache by hand is extracted, no network."""
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'tiny_zoo_model.tar.gz').write_bytes(
        open(artifacts['zoo'] + '/tiny_zoo_model.tar.gz', 'rb').read())
    adapter = loaded('tfzoo:tiny_zoo_model', {'tf_zoo_dir': str(cache)})
    assert (cache / 'tiny_zoo_model' / 'saved_model' / 'saved_model.pb').is_file()
    check_contract(adapter, contract_images(), lambda: adapter.predict([BLACK]))


def test_real_exports(real_export, real_frozen):
    """The committed OD API exports: random weights always detect something,
    so no empty result is asked of them."""
    for adapter in (real_export, real_frozen):
        check_contract(adapter, contract_images())


def test_ours_odapi(real_port):
    """Our port of the real export; a score threshold no sigmoid passes gives
    the empty result."""
    model = real_port.model
    config = model.config

    def nothing():
        model.config = dataclasses.replace(config, post_processing=dataclasses.replace(
            config.post_processing, score_threshold=1.0))
        try:
            return real_port.predict([BLACK])
        finally:
            model.config = config
    check_contract(real_port, contract_images(), nothing)



@pytest.mark.parametrize('kind', ['caffe', 'opencv-dnn'])
def test_caffe_kinds_on_the_packaged_face_detector(kind):
    import os

    from PIL import Image
    folder = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
    images = [np.asarray(Image.open(os.path.join(folder, name)).convert('RGB').resize(size))
              for name, size in (('astronaut.jpg', (160, 150)), ('grace_hopper.jpg', (128, 150)))]
    check_contract(loaded(kind + ':res10-face'), images)
