"""The SSD API on a tiny SSD (32x32 input, 92 default boxes): presets, bad
input, predict's scaling to each image, device moves, the resize backend."""
import chainer
import numpy as np
import pytest
from chainer.backend import CpuDevice
from tiny_ssd import tiny_ssd

import replicate
from replicate.errors import InputError
from replicate.ssd.preprocess import resize_cv2, resize_pil


def image(seed, height, width):
    return np.random.default_rng(seed).uniform(0, 255, (3, height, width)).astype(np.float32)


def test_presets():
    model = tiny_ssd()
    assert (model.nms_thresh, model.score_thresh) == (0.45, 0.6)
    model.use_preset('evaluate')
    assert (model.nms_thresh, model.score_thresh) == (0.45, 0.01)
    assert (model.nms_top_k, model.keep_top_k) == (None, None)
    model.use_preset('evaluate-caffe')
    assert (model.nms_thresh, model.score_thresh, model.nms_top_k, model.keep_top_k) == (
        0.45, 0.01, 400, 200)
    model.use_preset('visualize')
    assert (model.nms_thresh, model.score_thresh, model.nms_top_k) == (0.45, 0.6, None)
    with pytest.raises(ValueError, match='evaluate, evaluate-caffe, visualize'):
        model.use_preset('fast')
    assert model.n_fg_class == 3 and model.insize == 32 and model.resize_backend is None


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
def test_bad_input_is_a_value_error(imgs, message):
    with pytest.raises(ValueError, match=message) as info:
        tiny_ssd().predict(imgs)
    assert isinstance(info.value, InputError)


def test_predict_scales_boxes_to_each_image():
    """predict = prepare, forward, decode in the 32x32 frame, then each box
    times (H / 32, W / 32, H / 32, W / 32) of its own image."""
    model = tiny_ssd()
    model.nms_thresh, model.score_thresh = 0.45, 0.0
    imgs = [image(1, 48, 80), image(2, 17, 29)]
    bboxes, labels, scores = model.predict(imgs)
    assert len(bboxes) == len(labels) == len(scores) == 2
    x = np.stack([model._prepare(img) for img in imgs])
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        locs, confs = model.forward(x)
    for k, (img, bbox, label, score) in enumerate(zip(imgs, bboxes, labels, scores, strict=True)):
        box32, label32, score32 = model.coder.decode(locs.array[k], confs.array[k], 0.45, 0.0)
        height, width = img.shape[1:]
        assert len(bbox) == len(box32) > 10 and bbox.dtype == np.float32
        np.testing.assert_allclose(bbox, box32 * np.array([height, width, height, width]) / 32,
                                   rtol=1e-6)
        np.testing.assert_array_equal(label, label32)
        np.testing.assert_array_equal(score, score32)


class _Tagged(np.ndarray):
    """A numpy array that remembers it was sent through :class:`_TaggingDevice`."""


class _TaggingDevice(CpuDevice):
    def send_array(self, array):
        return np.asarray(array).view(_Tagged)


def test_to_device_moves_the_coder_with_the_parameters():
    model = tiny_ssd()
    boxes = np.array(model.coder._default_bbox)
    assert not isinstance(model.coder._default_bbox, _Tagged)
    model.to_device(_TaggingDevice())
    # without SSD.device_resident_accept the default boxes would stay behind
    assert isinstance(model.coder._default_bbox, _Tagged)
    np.testing.assert_array_equal(model.coder._default_bbox, boxes)
    assert model.coder.xp is np and len(model.predict([image(0, 20, 20)])[0]) == 1


def test_resize_backend_follows_chainer_config_unless_given():
    img = image(3, 45, 61)
    # (3, 45, 61) -> (3, 32, 32) by each backend, minus the mean
    by = {'cv2': resize_cv2(img, (32, 32)), 'PIL': resize_pil(img, (32, 32))}
    assert not np.array_equal(by['cv2'], by['PIL'])
    following, fixed = tiny_ssd(), tiny_ssd(resize_backend='PIL')
    for config in (None, 'cv2', 'PIL'):
        with chainer.using_config('cv_resize_backend', config):
            used = config or 'cv2'  # None: cv2, because OpenCV is installed here
            np.testing.assert_array_equal(following._prepare(img), by[used] - following.mean)
            np.testing.assert_array_equal(fixed._prepare(img), by['PIL'] - fixed.mean)
            assert following.info()['resize_backend'] == '{} (chainer.config.' \
                'cv_resize_backend={})'.format(used, config)
    assert fixed.info()['resize_backend'] == 'PIL (resize_backend=PIL)'


def test_bad_resize_backend_is_a_value_error():
    with pytest.raises(ValueError, match="resize_backend='bicubic'; valid: None, PIL, cv2"):
        replicate.SSD300(n_fg_class=1, resize_backend='bicubic')
    model = tiny_ssd()
    with chainer.using_config('cv_resize_backend', 'bicubic'):
        with pytest.raises(ValueError, match="chainer.config.cv_resize_backend='bicubic'"):
            model.predict([image(0, 10, 10)])
