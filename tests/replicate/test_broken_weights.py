"""Broken weights are reported, never turned into silent zero detections (issue 7,
class "user mistakes"): a half-downloaded or corrupt cached file names itself
and says to delete it; NaN or Inf in a weight file, in an image given to
``predict``, or in the network's output is an error naming it."""
import chainer
import numpy as np
import pytest
from tiny_ssd import tiny_ssd

from compare.run import main as run_compare
from replicate.errors import InputError, WeightsError
from replicate.ssd import pretrained
from replicate.ssd.weights import load_pretrained, load_weights, read_npz


@pytest.fixture
def cache_root(tmp_path):
    """ChainerCV's model cache moved under ``tmp_path``; returns the models folder."""
    before = chainer.dataset.get_dataset_root()
    chainer.dataset.set_dataset_root(str(tmp_path / 'root'))
    folder = tmp_path / 'root' / 'pfnet' / 'chainercv' / 'models'
    folder.mkdir(parents=True)
    yield folder
    chainer.dataset.set_dataset_root(before)


def _saved(tmp_path, model, name='w.npz'):
    path = tmp_path / name
    chainer.serializers.save_npz(str(path), model, compression=False)
    return path


@pytest.mark.parametrize('cut', [0.0, 0.5, 0.99])
def test_a_half_downloaded_cached_file_says_to_delete_it(tmp_path, cache_root, cut):
    good = _saved(tmp_path, tiny_ssd()).read_bytes()
    cached = cache_root / pretrained.PRETRAINED['voc0712'].file
    cached.write_bytes(good[:int(len(good) * cut)])
    with pytest.raises(WeightsError) as info:
        load_pretrained(tiny_ssd(), 'voc0712')
    message = str(info.value)
    assert message.startswith('cannot read weights file {}'.format(cached)) and '\n' not in message
    assert message.endswith("it is the cached copy of 'voc0712': delete it and rerun to download "
                            'it again (or place a good copy there)')


def test_the_harness_names_the_cached_file_to_delete(tmp_path, cache_root, capsys):
    from PIL import Image
    cached = cache_root / pretrained.PRETRAINED['voc0712'].file
    cached.write_bytes(b'PK\x03\x04 truncated')
    images = tmp_path / 'images'
    images.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(images / 'a.png')
    assert run_compare([str(images), '-d', 'ours:voc0712', '--out', str(tmp_path / 'o'),
                     '--no-progress', '--no-speed', '--no-score']) == 2
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if str(cached) in line]
    assert line.startswith('detector ours: failed: cannot read weights file') and \
        'delete it and rerun' in line and 'Traceback' not in err


@pytest.mark.parametrize('value', [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_a_weight_file_is_refused(tmp_path, value):
    model = tiny_ssd()
    model.multibox.conf[1].W.array[0, 0, 0, 0] = value
    path = _saved(tmp_path, model)
    with pytest.raises(WeightsError) as info:
        load_weights(tiny_ssd(), str(path))
    assert str(info.value) == (
        'weights file {} holds NaN or Inf values in 1 array(s): multibox/conf/1/W; the file is '
        'corrupt (or from a training that diverged)'.format(path))
    assert read_npz(str(_saved(tmp_path, tiny_ssd(), 'good.npz')))  # finite files load


def test_nan_in_an_image_given_to_predict_is_refused():
    image = np.full((3, 20, 24), 100, np.float32)
    image[1, 3, 4] = np.nan
    with pytest.raises(InputError, match='image 1 holds NaN or Inf pixel values'):
        tiny_ssd().predict([np.zeros((3, 20, 24), np.float32), image])


def test_nan_out_of_the_network_fails_the_detector_instead_of_zero_detections():
    """The harness's SSD adapter checks the network's outputs before NMS drops NaN."""
    from compare.adapters import build
    from compare.errors import UserError
    adapter = build('ours:random:0')
    adapter.model = tiny_ssd()  # the SSD300 API at 32x32, loaded in milliseconds
    adapter.model.multibox.conf[0].b.array[:] = np.nan  # as a broken update would leave it
    with pytest.raises(UserError, match='the network output NaN or Inf'):
        adapter.predict([np.zeros((30, 40, 3), np.uint8)])
