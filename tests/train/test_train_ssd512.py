"""SSD512 against ChainerCV's on the same seeded random weights (one forward
each), its npz layout both ways, and the default-box geometry rule."""
import io
import warnings

import chainer
import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.simplefilter('ignore', SyntaxWarning)
    import chainercv.links

import replicate
from replicate.datasets.synthetic import fractal_noise
from replicate.ssd import ssd300, ssd512
from replicate.ssd.geometry import ssd_sizes, ssd_steps
from replicate.ssd.weights import load_weights, param_keys, seeded_random_weights


@pytest.fixture(scope='module')
def pair():
    """(ChainerCV SSD512, ours), 4 classes, ours seeded and copied into theirs
    through an npz (ChainerCV's links are lazy: the file initialises them)."""
    ours = seeded_random_weights(replicate.SSD512(n_fg_class=4), seed=3)
    buffer = io.BytesIO()
    chainer.serializers.save_npz(buffer, ours, compression=False)
    buffer.seek(0)
    theirs = chainercv.links.SSD512(n_fg_class=4)
    chainer.serializers.load_npz(buffer, theirs)
    return theirs, ours


def test_names_and_shapes_equal_chainercv(pair):
    theirs, ours = pair
    shapes = {k: p.shape for k, p in param_keys(ours).items()}
    assert shapes == {k: p.shape for k, p in param_keys(theirs).items()}
    assert len(shapes) == 79 and shapes['extractor/conv12_2/W'] == (256, 128, 4, 4)


def test_chainercv_npz_loads_into_ours(pair, tmp_path):
    theirs, _ = pair
    path = str(tmp_path / 'ssd512.npz')
    chainer.serializers.save_npz(path, theirs, compression=False)
    fresh = load_weights(replicate.SSD512(n_fg_class=4), path)
    for key, param in param_keys(theirs).items():
        np.testing.assert_array_equal(param_keys(fresh)[key].array, param.array)
    with pytest.raises(replicate.WeightsError, match='misshapen'):
        load_weights(replicate.SSD512(n_fg_class=5), path)


def test_default_boxes_equal_chainercv(pair):
    theirs, ours = pair
    assert ours.coder.counts == (16384, 6144, 1536, 384, 96, 16, 4)
    np.testing.assert_allclose(ours.coder._default_bbox, theirs.coder._default_bbox,
                               rtol=0, atol=1e-12)


@pytest.mark.slow  # SSD512 forward twice, 11 s; its names and shapes are checked in the default run
def test_forward_and_decode_equal_chainercv(pair):
    theirs, ours = pair
    # one small smooth image
    rng = np.random.default_rng(5)
    img = np.stack([255 * fractal_noise(rng, 61, 47) for _ in range(3)])
    x = ours._prepare(img)[None]
    np.testing.assert_array_equal(x[0], theirs._prepare(img))
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        (locs, confs), (cv_locs, cv_confs) = [
            tuple(v.array for v in model(x)) for model in (ours, theirs)]
    assert locs.shape == (1, 24564, 4) and confs.shape == (1, 24564, 5)
    np.testing.assert_array_equal(locs, cv_locs)
    np.testing.assert_array_equal(confs, cv_confs)
    got = ours.coder.decode(locs[0], confs[0], 0.45, 0.01)
    expected = theirs.coder.decode(cv_locs[0], cv_confs[0], 0.45, 0.01)
    assert len(got[0]) > 0
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_wrong_class_count_for_named_weights():
    with pytest.raises(ValueError, match='n_fg_class=20'):
        replicate.SSD512(n_fg_class=10, pretrained_model='voc0712')


def test_scale_rule_gives_the_paper_sizes():
    assert ssd_sizes(300, 6, 20, 90, 10) == ssd300.SIZES
    assert ssd_sizes(512, 7, 15, 90, 7) == ssd512.SIZES
    assert ssd_steps(128, (16, 8, 4, 2, 1)) == (8, 16, 32, 64, 128)
    with pytest.raises(ValueError, match='at least 3'):
        ssd_sizes(300, 2)
