"""The Chainer SSD300 adapters (ours, chainercv) and their weight options."""
import numpy as np
import pytest

from compare import chainer_weights
from compare.adapters import build
from compare.errors import UserError


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('CHAINER_DATASET_ROOT', str(tmp_path / 'dataset'))
    return tmp_path / 'dataset' / 'pfnet' / 'chainercv' / 'models'


def test_uncached_pretrained_names_the_file_and_folder(empty_cache):
    for kind in ('chainercv', 'ours'):
        with pytest.raises(UserError) as info:
            build(kind + ':voc0712').load()
        message = str(info.value)
        assert 'ssd300_voc0712_converted_2017_06_06.npz' in message
        assert str(empty_cache) in message and '\n' not in message


def test_default_is_random_when_uncached_and_says_so(empty_cache):
    adapter = build('chainercv')
    assert adapter.weights_spec == 'random' and 'RANDOM' in adapter.note
    empty_cache.mkdir(parents=True)
    (empty_cache / 'ssd300_voc0712_converted_2017_06_06.npz').write_bytes(b'x')
    assert build('chainercv').weights_spec == 'voc0712'


def test_weight_specs(tmp_path):
    assert chainer_weights.resolve('random')['seed'] == 0
    described = chainer_weights.resolve('random:7')
    assert described['seed'] == 7 and described['random_weights'] is True
    assert described['weights'] == 'random (seed 7)'
    path = tmp_path / 'w.npz'
    path.write_bytes(b'abc')
    described = chainer_weights.resolve(str(path))
    # sha256 of b'abc', a published test vector
    assert described['weights_sha256'] == ('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff'
                                           '61f20015ad')
    assert described['random_weights'] is False
    with pytest.raises(UserError, match='does not exist'):
        chainer_weights.resolve(str(tmp_path / 'missing.npz'))
    with pytest.raises(UserError, match='unknown weights'):
        chainer_weights.resolve('coco')
    with pytest.raises(UserError, match='non-negative integer'):
        chainer_weights.resolve('random:x')


def test_bad_preset_is_a_user_error():
    with pytest.raises(UserError, match='preset'):
        build('chainercv:random,preset=fast')


@pytest.fixture(scope='module')
def chainercv_random():
    adapter = build('chainercv:random:3')
    adapter.load()
    adapter.model.score_thresh = 0.3  # random weights: a few dozen boxes survive
    return adapter


def _image():
    return np.random.RandomState(0).randint(0, 255, (64, 80, 3), np.uint8)


def test_staged_predict_equals_model_predict(chainercv_random):
    image = _image()
    prediction = chainercv_random.predict([image])
    boxes, labels, scores = chainercv_random.model.predict([image.transpose(2, 0, 1)])
    detections = prediction.detections[0]
    assert len(detections) > 0
    np.testing.assert_allclose(detections.boxes, boxes[0], rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(detections.labels, labels[0])
    np.testing.assert_allclose(detections.scores, scores[0], rtol=1e-6)
    assert all(prediction.times[s] > 0 for s in ('preprocess', 'inference', 'postprocess'))
    info = chainercv_random.info()
    assert info['random_weights'] is True and info['weights'] == 'random (seed 3)'
    assert info['info']['preset'] == 'visualize' and len(info['label_names']) == 20


def test_ours_equals_chainercv_with_the_same_seed(chainercv_random):
    pytest.importorskip('replicate.ssd300')
    ours = build('ours:random:3')
    ours.load()
    ours.model.score_thresh = 0.3
    image = _image()
    mine = ours.predict([image]).detections[0]
    theirs = chainercv_random.predict([image]).detections[0]
    assert len(mine) == len(theirs) > 0
    np.testing.assert_allclose(mine.boxes, theirs.boxes, rtol=1e-4, atol=1e-2)
    np.testing.assert_array_equal(mine.labels, theirs.labels)
    assert mine.names == theirs.names
    # same seed, same parameter names: the very same weights
    assert ours.info()['info']['params_sha256'] == chainercv_random.info()['info']['params_sha256']
