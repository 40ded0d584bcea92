"""The Chainer SSD300 adapters (ours, chainercv) and their weight choices."""
import hashlib
import urllib.error

import chainer
import numpy as np
import pytest
from conftest import CHAINER_THRESH, contract_images, loaded, score_thresh

from compare.adapters import build, chainer_weights
from compare.errors import UserError
from replicate import PretrainedModelError
from replicate.ssd import pretrained
from replicate.tolerances import DETECTIONS_BOX_PX, DETECTIONS_SCORE

pytestmark = pytest.mark.xdist_group('tf')  # one worker builds its fixtures


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty dataset root and a network that refuses every URL."""
    root = chainer.dataset.get_dataset_root()
    chainer.dataset.set_dataset_root(str(tmp_path / 'dataset'))

    def offline(url, timeout=None):
        raise urllib.error.URLError('offline (test)')
    monkeypatch.setattr(pretrained, 'urlopen', offline)
    yield tmp_path / 'dataset' / 'pfnet' / 'chainercv' / 'models'
    chainer.dataset.set_dataset_root(root)


def test_missing_pretrained_names_the_file_url_and_folder(empty_cache):
    for kind in ('chainercv', 'ours'):
        with pytest.raises(PretrainedModelError) as info:
            build(kind + ':voc0712').load()
        message = str(info.value)
        assert 'ssd300_voc0712_converted_2017_06_06.npz' in message and '\n' not in message
        assert pretrained.PRETRAINED['voc0712'].url in message and 'offline (test)' in message
        assert str(empty_cache) in message


def test_default_is_random_when_uncached_and_says_so(empty_cache):
    adapter = build('chainercv')
    assert adapter.choice.random_weights and adapter.choice.seed == 0
    # where to place the file, in words that hold on every machine (reports keep the note)
    assert 'RANDOM' in adapter.choice.note and str(empty_cache) not in adapter.choice.note
    assert '(ssd300_voc0712_converted_2017_06_06.npz)' in adapter.choice.note
    assert '$CHAINER_DATASET_ROOT/pfnet/chainercv/models' in adapter.choice.note
    empty_cache.mkdir(parents=True)
    (empty_cache / 'ssd300_voc0712_converted_2017_06_06.npz').write_bytes(b'x')
    choice = build('chainercv').choice
    assert (choice.source, choice.note) == ('voc0712', 'DEFAULT: voc0712 cached')


def test_weight_specs(tmp_path):
    assert chainer_weights.choose('random') == chainer_weights.WeightChoice(
        None, 0, 'random (seed 0)', 'given on the command line')
    seven = chainer_weights.choose('random:7')
    assert (seven.seed, seven.random_weights, seven.weights) == (7, True, 'random (seed 7)')
    path = tmp_path / 'w.npz'
    path.write_bytes(b'abc')
    given = chainer_weights.choose(str(path))
    assert (given.source, given.random_weights) == (str(path), False)
    with pytest.raises(UserError, match='does not exist'):
        chainer_weights.choose(str(tmp_path / 'missing.npz'))
    with pytest.raises(UserError, match='unknown weights'):
        chainer_weights.choose('coco')
    with pytest.raises(UserError, match='non-negative integer'):
        chainer_weights.choose('random:x')


def test_weight_file_is_loaded_strictly_and_recorded(tmp_path, chainer_adapters):
    """-d chainercv:FILE.npz: ChainerCV's model through our strict loader."""
    path = tmp_path / 'ours.npz'
    chainer.serializers.save_npz(str(path), chainer_adapters['ours'].model, compression=False)
    adapter = build('chainercv:{},name=cv_file'.format(path))
    adapter.load()
    info = adapter.info()
    assert info.random_weights is False and info.info['seed'] is None
    # the sha256 of the file, and the very parameters of the model that wrote it
    assert info.weights_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.info['params_sha256'] == chainer_adapters['ours'].info().info['params_sha256']


def test_bad_preset_is_a_user_error():
    with pytest.raises(UserError, match='preset'):
        build('chainercv:random,preset=fast')


def test_staged_predict_equals_model_predict_clipped(chainer_adapters, chainer_predictions):
    """The adapter's three timed stages compute model.predict, boxes clipped
    (the adapter ran a batch of two: float32 sums in another order, 1e-5)."""
    adapter = chainer_adapters['chainercv']
    image = contract_images()[0]
    detections = chainer_predictions['chainercv'][0].detections[0]
    adapter.model.score_thresh = CHAINER_THRESH
    try:
        boxes, labels, scores = adapter.model.predict([image.transpose(2, 0, 1)])
    finally:
        adapter.model.use_preset('visualize')
    height, width = image.shape[:2]
    expected = np.clip(boxes[0], 0, [height, width, height, width])
    assert len(detections) > 0 and (expected != boxes[0]).any()  # some boxes were clipped
    np.testing.assert_allclose(detections.boxes, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(detections.labels, labels[0])
    np.testing.assert_allclose(detections.scores, scores[0], rtol=1e-5)
    info = adapter.info()
    assert info.random_weights is True and info.weights == 'random (seed 3)'
    assert info.info['preset'] == 'visualize' and len(info.label_names) == 20


def test_ours_equals_chainercv_with_the_same_seed(chainer_adapters, chainer_predictions):
    mine, theirs = (chainer_predictions[kind][0].detections for kind in ('ours', 'chainercv'))
    for a, b in zip(mine, theirs, strict=True):
        assert len(a) == len(b) > 0 and a.names == b.names
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.scores, b.scores)
    # same seed, same parameter names: the very same weights
    infos = [chainer_adapters[kind].info().info for kind in ('ours', 'chainercv')]
    assert infos[0]['params_sha256'] == infos[1]['params_sha256']


@pytest.mark.slow  # an ONNX export in the harness, 12 s; test_ort.py proves the path
def test_ours_onnx_beside_ours(chainer_adapters, chainer_predictions):
    """The fast path as a detector kind: the same weights and images give the
    same detections as ``ours`` up to float32 rounding (tolerance of
    tests/replicate/test_ort.py)."""
    fast = loaded('ours-onnx:random:3')
    with score_thresh(fast, CHAINER_THRESH):
        got = fast.predict(contract_images()).detections
    expected = chainer_predictions['ours'][0].detections
    for a, b in zip(got, expected, strict=True):
        assert len(a) == len(b) > 0 and list(a.labels) == list(b.labels)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=DETECTIONS_BOX_PX)
        np.testing.assert_allclose(a.scores, b.scores, atol=DETECTIONS_SCORE)
    info = fast.info()
    assert info.device == 'CPU (ONNX Runtime)' and info.info['library'].startswith('onnxruntime')
    assert info.info['params_sha256'] == chainer_adapters['ours'].info().info['params_sha256']
