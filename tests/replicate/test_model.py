"""The full SSD300 against ChainerCV's with the same seeded weights: raw
outputs bit-identical, then predictions identical under either resize
backend; and on a GPU against the CPU. (The API on a tiny SSD: test_ssd_api.)"""
import chainer
import numpy as np
import pytest

import replicate
from replicate.ssd.weights import seeded_random_weights
from replicate.tolerances import PARITY_GPU

pytestmark = pytest.mark.xdist_group('seeded-ssd300')  # one worker builds its fixtures


@pytest.fixture(scope='module')
def forward_pair(seeded_pair, smooth_image):
    """Both models' (mb_locs, mb_confs) arrays on one prepared 300x300 image."""
    theirs, ours = seeded_pair
    x = theirs._prepare(smooth_image(1, 300, 300))[None]
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return x, [tuple(v.array for v in model(x)) for model in (theirs, ours)]


def test_param_names_and_shapes_equal_chainercv(seeded_pair):
    theirs, ours = seeded_pair
    cv = {name: p.shape for name, p in theirs.namedparams()}
    assert {name: p.shape for name, p in ours.namedparams()} == cv
    assert '/extractor/norm4/scale' in cv and '/multibox/loc/0/W' in cv and len(cv) == 71


def test_prepare_equal(seeded_pair, smooth_image):
    theirs, ours = seeded_pair
    img = smooth_image(4, 123, 457)
    np.testing.assert_array_equal(ours._prepare(img), theirs._prepare(img))


def test_forward_bit_identical(forward_pair):
    _, ((cv_locs, cv_confs), (locs, confs)) = forward_pair
    assert locs.shape == (1, 8732, 4) and confs.shape == (1, 8732, 21)
    assert locs.dtype == confs.dtype == np.float32
    np.testing.assert_array_equal(locs, cv_locs)
    np.testing.assert_array_equal(confs, cv_confs)


@pytest.mark.parametrize('preset', ['evaluate', 'visualize'])
def test_decode_of_forward_equal(seeded_pair, forward_pair, preset):
    theirs, ours = seeded_pair
    _, ((cv_locs, cv_confs), (locs, confs)) = forward_pair
    ours.use_preset(preset)
    got = ours.coder.decode(locs[0], confs[0], ours.nms_thresh, ours.score_thresh)
    expected = theirs.coder.decode(cv_locs[0], cv_confs[0], ours.nms_thresh,
                                   ours.score_thresh)
    assert len(got[0]) > 0
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('backend, size', [('cv2', (233, 317)), ('PIL', (411, 199))])
def test_predict_equal_under_either_resize_backend(seeded_pair, smooth_image, backend, size):
    """chainer.config.cv_resize_backend set as a ChainerCV user sets it: both
    models follow it (one odd-sized image each, preset 'evaluate')."""
    theirs, ours = seeded_pair
    img = smooth_image(2, *size)
    other = {'cv2': 'PIL', 'PIL': 'cv2'}[backend]
    with chainer.using_config('cv_resize_backend', other):
        elsewise = ours._prepare(img)
    for model in seeded_pair:
        model.use_preset('evaluate')
    with chainer.using_config('cv_resize_backend', backend):
        # the two backends really differ on this image, so following the wrong one would show
        assert not np.array_equal(ours._prepare(img), elsewise)
        got, expected = ours.predict([img]), theirs.predict([img])
    for a, b in zip(got, expected, strict=True):
        assert len(a) == len(b) == 1 and isinstance(a[0], np.ndarray) and a[0].dtype == b[0].dtype
        np.testing.assert_array_equal(a[0], b[0])
    bbox, label, score = got[0][0], got[1][0], got[2][0]
    assert len(bbox) > 100 and score.min() >= 0.01 and 0 <= label.min() and label.max() < 20
    # boxes are in the input image's pixels: centers lie inside the image
    center = (bbox[:, :2] + bbox[:, 2:]) / 2
    assert (center >= 0).all() and (center <= size).all()


@pytest.mark.gpu
def test_gpu_predict_equal_to_cpu(smooth_image):
    """Every box, label and score of predict on CuPy against the CPU (no
    ChainerCV needed). The forward differs by float32 reordering (cuDNN), so
    scores and boxes get a tolerance; the detections themselves (count,
    labels) must be the same."""
    import cupy
    ours = seeded_random_weights(replicate.SSD300(n_fg_class=20), seed=0)
    model = replicate.SSD300(n_fg_class=20)
    model.copyparams(ours)
    model.to_device('@cupy:0')
    assert model.coder.xp is cupy
    imgs = [smooth_image(2, 233, 317), smooth_image(3, 300, 300)]
    model.use_preset('visualize')
    ours.use_preset('visualize')
    gpu, cpu = model.predict(imgs), ours.predict(imgs)
    for (g_box, g_label, g_score), (c_box, c_label, c_score) in zip(
            zip(*gpu, strict=True), zip(*cpu, strict=True), strict=True):
        assert isinstance(g_box, np.ndarray) and len(c_box) > 0
        np.testing.assert_array_equal(g_label, c_label)
        np.testing.assert_allclose(g_score, c_score, rtol=PARITY_GPU, atol=1e-6)
        np.testing.assert_allclose(g_box, c_box, rtol=PARITY_GPU, atol=1e-2)
