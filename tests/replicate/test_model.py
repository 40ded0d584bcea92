"""The full SSD300 against ChainerCV's with the same seeded weights: raw
outputs bit-identical, then predictions identical. Plus API behaviour."""
import chainer
import numpy as np
import pytest

import replicate
from replicate.errors import InputError


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


def test_predict_equal_on_odd_sizes(seeded_pair, smooth_image):
    """One predict per model (2 forwards each), preset 'evaluate'."""
    theirs, ours = seeded_pair
    imgs = [smooth_image(2, 233, 317), smooth_image(3, 411, 199)]
    for model in seeded_pair:
        model.use_preset('evaluate')
    got, expected = ours.predict(imgs), theirs.predict(imgs)
    for ours_list, theirs_list in zip(got, expected, strict=True):
        assert len(ours_list) == len(theirs_list) == 2
        for a, b in zip(ours_list, theirs_list, strict=True):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    bboxes, labels, scores = got
    assert all(len(b) > 0 for b in bboxes)
    assert all(s.min() >= 0.01 for s in scores)
    assert all(lab.min() >= 0 and lab.max() < 20 for lab in labels)
    # boxes are in each input image's pixels: centers lie inside the image
    for bbox, (height, width) in zip(bboxes, [(233, 317), (411, 199)], strict=True):
        center = (bbox[:, :2] + bbox[:, 2:]) / 2
        assert (center >= 0).all() and (center <= [height, width]).all()


def test_presets():
    model = replicate.SSD300(n_fg_class=3)
    assert (model.nms_thresh, model.score_thresh) == (0.45, 0.6)
    model.use_preset('evaluate')
    assert (model.nms_thresh, model.score_thresh) == (0.45, 0.01)
    assert (model.nms_top_k, model.keep_top_k) == (None, None)
    model.use_preset('evaluate-caffe')
    assert (model.nms_thresh, model.score_thresh, model.nms_top_k, model.keep_top_k) == (
        0.45, 0.01, 400, 200)
    with pytest.raises(ValueError, match='evaluate, evaluate-caffe, visualize'):
        model.use_preset('fast')
    assert model.n_fg_class == 3 and model.insize == 300 and model.resize == 'cv2'


@pytest.mark.parametrize('imgs, message', [
    ([np.zeros((3, 20, 30), dtype=object)], 'dtype object'),
    ([np.zeros((3, 20, 30), dtype=bool)], 'dtype bool'),
    ([np.zeros((20, 30, 3), dtype=np.float32)], 'HWC'),
    ([np.zeros((1, 20, 30), dtype=np.float32)], 'grayscale'),
    ([np.zeros((20, 30), dtype=np.float32)], r'shape \(20, 30\)'),
    ([np.zeros((3, 0, 30), dtype=np.float32)], 'H, W >= 1'),
    ([], 'empty'),
    ([[[1.0]]], 'is a list'),
    (np.zeros((3, 20, 30), dtype=np.float32), 'one array'),
    ('image.jpg', 'is a str'),
])
def test_bad_input_is_a_value_error(seeded_pair, imgs, message):
    _, model = seeded_pair
    with pytest.raises(ValueError, match=message) as info:
        model.predict(imgs)
    assert isinstance(info.value, InputError)


def test_resize_backend_is_checked():
    with pytest.raises(ValueError, match='valid: PIL, cv2'):
        replicate.SSD300(n_fg_class=1, resize='bicubic')


def test_coder_follows_device():
    model = replicate.SSD300(n_fg_class=1)
    boxes = model.coder._default_bbox
    model.to_device('@numpy')
    assert model.device.xp is np and model.coder.xp is np
    np.testing.assert_array_equal(model.coder._default_bbox, boxes)
    model.to_cpu()
    assert isinstance(model.coder._default_bbox, np.ndarray)


@pytest.mark.gpu
def test_gpu_predict_close_to_cpu(seeded_pair, smooth_image):
    cupy = pytest.importorskip('cupy')
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip('no CUDA device')
    _, ours = seeded_pair
    model = replicate.SSD300(n_fg_class=20)
    model.copyparams(ours)
    model.to_device('@cupy:0')
    assert model.coder.xp is cupy
    imgs = [smooth_image(2, 233, 317)]
    model.use_preset('evaluate')
    ours.use_preset('evaluate')
    gpu, cpu = model.predict(imgs), ours.predict(imgs)
    np.testing.assert_allclose(gpu[2][0][:10], cpu[2][0][:10], rtol=1e-3)
