"""pretrained_model=: cache lookup, download, the one-line offline error, the
n_fg_class rules, and (when the real file is cached) the voc0712 weights."""
import io
import os
import subprocess
import sys
import urllib.error

import chainer
import numpy as np
import pytest

import replicate
from replicate import PretrainedModelError
from replicate.ssd import pretrained
from replicate.ssd.weights import param_keys

pytestmark = pytest.mark.xdist_group('seeded-ssd300')  # one worker builds its fixtures


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A temporary, empty dataset root and a network that refuses every URL."""
    old_root = chainer.dataset.get_dataset_root()
    chainer.dataset.set_dataset_root(str(tmp_path))

    def offline(url, timeout=None):
        raise urllib.error.URLError('network unreachable (test)')

    monkeypatch.setattr(pretrained, 'urlopen', offline)
    yield tmp_path
    chainer.dataset.set_dataset_root(old_root)


@pytest.fixture(scope='module')
def voc_like_npz(seeded_pair, tmp_path_factory):
    """Bytes of an .npz with the voc0712 file's keys (seeded 20-class weights)."""
    path = tmp_path_factory.mktemp('voc') / 'w.npz'
    chainer.serializers.save_npz(str(path), seeded_pair[1], compression=False)
    return path.read_bytes()


def test_offline_error_is_one_actionable_line(empty_cache):
    with pytest.raises(PretrainedModelError) as info:
        replicate.SSD300(pretrained_model='voc0712')
    message = str(info.value)
    folder = os.path.join(str(empty_cache), 'pfnet', 'chainercv', 'models')
    assert message == (
        "pretrained weights 'voc0712' (ssd300_voc0712_converted_2017_06_06.npz) are not in {} "
        'and cannot be downloaded (network unreachable (test)): download https://chainercv-'
        'models.preferred.jp/ssd300_voc0712_converted_2017_06_06.npz and place it in that '
        'folder, or pass the path of an .npz instead'.format(folder))
    assert os.listdir(folder) == []  # no partial file left


def test_cached_file_is_used_without_download(empty_cache, voc_like_npz, seeded_pair):
    path = pretrained.cached_path('voc0712')
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(voc_like_npz)
    model = replicate.SSD300(pretrained_model='voc0712')  # the opener would raise
    assert model.n_fg_class == 20
    key = 'multibox/conf/3/W'
    np.testing.assert_array_equal(param_keys(model)[key].array,
                                  param_keys(seeded_pair[1])[key].array)


def test_download_goes_to_cache(empty_cache, voc_like_npz, monkeypatch):
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return io.BytesIO(voc_like_npz)

    monkeypatch.setattr(pretrained, 'urlopen', fake_urlopen)
    path = pretrained.fetch('voc0712')
    assert requested == [pretrained.PRETRAINED['voc0712'].url]
    assert path == pretrained.cached_path('voc0712')
    with open(path, 'rb') as f:
        assert f.read() == voc_like_npz
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_imagenet_loads_the_base_only(empty_cache, seeded_pair):
    _, ours = seeded_pair
    optional = pretrained.PRETRAINED['imagenet'].optional
    base = {k: p.array for k, p in param_keys(ours).items() if not k.startswith(optional)}
    assert 'extractor/conv5_3/W' in base and 'extractor/conv8_1/W' not in base
    path = pretrained.cached_path('imagenet')
    os.makedirs(os.path.dirname(path))
    np.savez(path, **base)
    model = replicate.SSD300(n_fg_class=4, pretrained_model='imagenet')
    np.testing.assert_array_equal(param_keys(model)['extractor/conv6/W'].array,
                                  base['extractor/conv6/W'])
    assert model.multibox.n_class == 5
    assert sorted(base) == sorted(k for k in param_keys(model) if k.startswith('extractor/conv')
                                  and int(k.split('/')[1][4:].split('_')[0]) <= 7)


def test_cache_folder_follows_chainer_dataset_root_env(tmp_path):
    """$CHAINER_DATASET_ROOT set before the process starts: the model, the
    parity tool and the harness all look in the same folder."""
    script = ('from replicate.ssd import pretrained\n'
              'from replicate.parity import models\n'
              'from compare.adapters import chainer_weights\n'
              'def offline(url, timeout=None):\n'
              '    raise OSError("offline (test)")\n'
              'pretrained.urlopen = offline\n'
              'print(pretrained.cached_path("voc0712"))\n'
              'print(chainer_weights.default_weights().note)\n'
              'try:\n'
              '    models.resolve_weights("voc0712", 20)\n'
              'except Exception as error:\n'
              '    print(error)\n')
    env = dict(os.environ, CHAINER_DATASET_ROOT=str(tmp_path / 'root'))
    out = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.splitlines()
    folder = str(tmp_path / 'root' / 'pfnet' / 'chainercv' / 'models')
    assert out[0] == os.path.join(folder, 'ssd300_voc0712_converted_2017_06_06.npz')
    assert len(out) == 3 and folder in out[2]
    # the harness's note, kept in reports, names the folder machine-independently
    assert '$CHAINER_DATASET_ROOT/pfnet/chainercv/models' in out[1] and folder not in out[1]


@pytest.mark.parametrize('kwargs, message', [
    ({'n_fg_class': 3, 'pretrained_model': 'voc0712'}, 'n_fg_class=20, got 3'),
    ({}, 'n_fg_class is required'),
    ({'pretrained_model': 'imagenet'}, 'n_fg_class is required'),
])
def test_n_fg_class_rules(kwargs, message):
    with pytest.raises(ValueError, match=message):
        replicate.SSD300(**kwargs)


@pytest.mark.pretrained
def test_voc0712_equal_to_chainercv(smooth_image):
    if not pretrained.is_cached('voc0712'):
        pytest.skip('no pretrained weights: download {} and place it in {}'.format(
            pretrained.PRETRAINED['voc0712'].url, pretrained.models_dir()))
    import chainercv.links
    ours = replicate.SSD300(pretrained_model='voc0712')
    with chainer.using_config('cv_resize_backend', 'cv2'):
        theirs = chainercv.links.SSD300(pretrained_model='voc0712')
    img = smooth_image(0, 240, 320)
    for model in (ours, theirs):
        model.use_preset('evaluate')
    with chainer.using_config('cv_resize_backend', 'cv2'):
        got, expected = ours.predict([img]), theirs.predict([img])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
