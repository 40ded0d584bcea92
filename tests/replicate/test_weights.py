"""Weights: seeded values shared with ChainerCV, ChainerCV .npz files loading
into ours (chainer's load_npz and the strict loader), strict loader errors."""
import chainer
import numpy as np
import pytest

import replicate
from replicate import WeightsError, load_weights, seeded_random_weights
from replicate.ssd.weights import param_keys

pytestmark = pytest.mark.xdist_group('seeded-ssd300')  # one worker builds its fixtures


def test_seeded_weights_identical_in_both(seeded_pair):
    theirs, ours = seeded_pair
    cv = param_keys(theirs)
    for key, param in param_keys(ours).items():
        np.testing.assert_array_equal(param.array, cv[key].array, err_msg=key)


def test_seeded_weights_depend_on_seed_only(seeded_pair):
    _, seed0 = seeded_pair
    # a fresh model (different random init) with seed 0 gets the same values
    again = seeded_random_weights(replicate.SSD300(n_fg_class=20), seed=0)
    other = seeded_random_weights(replicate.SSD300(n_fg_class=20), seed=1)
    for key, param in param_keys(seed0).items():
        np.testing.assert_array_equal(param_keys(again)[key].array, param.array)
        assert not np.array_equal(param_keys(other)[key].array, param.array), key
    # background channels (every 21st) of the conf heads carry the large bias
    bias = param_keys(seed0)['multibox/conf/0/b'].array
    assert (bias[::21] > 10).all() and (np.abs(np.delete(bias, np.s_[::21])) < 1).all()


@pytest.fixture(scope='module')
def chainercv_npz(seeded_pair, tmp_path_factory):
    """ChainerCV's seeded SSD300 written by chainer.serializers.save_npz."""
    path = tmp_path_factory.mktemp('npz') / 'chainercv_ssd300.npz'
    chainer.serializers.save_npz(str(path), seeded_pair[0])
    return path


def test_chainercv_npz_loads_with_load_npz(seeded_pair, chainercv_npz, smooth_image):
    theirs, _ = seeded_pair
    model = replicate.SSD300(n_fg_class=20)
    chainer.serializers.load_npz(str(chainercv_npz), model)  # strict by default
    x = theirs._prepare(smooth_image(6, 300, 300))[None]
    # one forward each: the loaded model computes exactly what ChainerCV's does
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        got, expected = model(x), theirs(x)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.array, b.array)


def test_chainercv_npz_loads_with_strict_loader(seeded_pair, chainercv_npz):
    model = load_weights(replicate.SSD300(n_fg_class=20), str(chainercv_npz))
    cv = param_keys(seeded_pair[0])
    for key, param in param_keys(model).items():
        np.testing.assert_array_equal(param.array, cv[key].array, err_msg=key)


def test_strict_loader_names_every_bad_key(seeded_pair, tmp_path):
    _, ours = seeded_pair
    arrays = {k: p.array for k, p in param_keys(ours).items()}
    del arrays['extractor/conv1_1/W'], arrays['multibox/loc/5/b']
    arrays['extractor/fc8/W'] = np.zeros(3, np.float32)
    arrays['multibox/conf/0/W'] = np.zeros((80, 512, 3, 3), np.float32)
    path = tmp_path / 'bad.npz'
    np.savez(path, **arrays)
    model = replicate.SSD300(n_fg_class=20)
    before = param_keys(model)['extractor/conv2_1/W'].array.copy()
    with pytest.raises(WeightsError) as info:
        load_weights(model, str(path))
    message = str(info.value)
    assert '\n' not in message and str(path) in message
    assert '2 missing keys: extractor/conv1_1/W, multibox/loc/5/b' in message
    assert '1 unexpected keys: extractor/fc8/W' in message
    assert ('1 misshapen keys: multibox/conf/0/W (file (80, 512, 3, 3), '
            'model (84, 512, 3, 3))') in message
    # nothing was loaded
    np.testing.assert_array_equal(param_keys(model)['extractor/conv2_1/W'].array, before)


def test_strict_loader_misshapen_and_wrong_classes(chainercv_npz):
    # a 20-class file into a 5-class model: every conf head is misshapen
    with pytest.raises(WeightsError, match=r'12 misshapen keys: multibox/conf/0/W '
                       r'\(file \(84, 512, 3, 3\), model \(24, 512, 3, 3\)\)'):
        load_weights(replicate.SSD300(n_fg_class=5), str(chainercv_npz))


def test_strict_loader_allow_missing(seeded_pair, tmp_path):
    _, ours = seeded_pair
    base = {k: p.array for k, p in param_keys(ours).items() if not k.startswith('multibox/')}
    path = tmp_path / 'base.npz'
    np.savez(path, **base)
    model = replicate.SSD300(n_fg_class=7)
    with pytest.raises(WeightsError, match='24 missing keys'):
        load_weights(model, str(path))
    load_weights(model, str(path), allow_missing=('multibox/',))
    np.testing.assert_array_equal(param_keys(model)['extractor/conv7/W'].array,
                                  base['extractor/conv7/W'])


def test_unreadable_file(tmp_path):
    path = tmp_path / 'not_npz.npz'
    path.write_text('hello')
    with pytest.raises(WeightsError, match='cannot read weights file .*not_npz.npz'):
        load_weights(replicate.SSD300(n_fg_class=1), str(path))
    with pytest.raises(WeightsError, match='cannot read'):
        load_weights(replicate.SSD300(n_fg_class=1), str(tmp_path / 'absent.npz'))
