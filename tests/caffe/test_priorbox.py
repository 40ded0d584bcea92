"""Prior boxes against hand-computed numbers (the rules of the original
SSD's prior_box_layer.cpp, written out box by box)."""
import math

import numpy as np
import pytest

from replicate.caffe import priorbox, prototxt
from replicate.caffe.errors import CaffeError
from replicate.odapi import textproto


def params(text):
    message = textproto.parse(text)
    return priorbox.from_params(prototxt.Params(message, 'test prior_box_param',
                                                priorbox.KNOWN_FIELDS))


def test_ssd_style_priors_box_by_box():
    p = params('min_size: 30 max_size: 60 aspect_ratio: 2 flip: true clip: false '
               'variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 step: 50 offset: 0.5')
    out = priorbox.prior_boxes(p, (2, 2), (100, 100))
    assert out.shape == (1, 2, 2 * 2 * 4 * 4) and out.dtype == np.float32
    boxes = out[0, 0].reshape(2, 2, 4, 4)  # (row, column, prior, x_min y_min x_max y_max)
    big = math.sqrt(30 * 60) / 2  # half side of the second square
    wide_w, wide_h = 30 * math.sqrt(2) / 2, 30 / math.sqrt(2) / 2  # ratio 2: half sides
    cx, cy = 25, 25  # location (0, 0): ((0 + 0.5) * 50, (0 + 0.5) * 50)
    expected = [[(cx - 15) / 100, (cy - 15) / 100, (cx + 15) / 100, (cy + 15) / 100],
                [(cx - big) / 100, (cy - big) / 100, (cx + big) / 100, (cy + big) / 100],
                [(cx - wide_w) / 100, (cy - wide_h) / 100, (cx + wide_w) / 100,
                 (cy + wide_h) / 100],
                # ratio 1/2 (flip): width and height swapped
                [(cx - wide_h) / 100, (cy - wide_w) / 100, (cx + wide_h) / 100,
                 (cy + wide_w) / 100]]
    np.testing.assert_allclose(boxes[0, 0], expected, rtol=0, atol=6e-8)
    # location (row 0, column 1) has its centre at x = 75, (row 1, column 0) at y = 75
    np.testing.assert_allclose(boxes[0, 1, 0], [0.6, 0.1, 0.9, 0.4], rtol=0, atol=6e-8)
    np.testing.assert_allclose(boxes[1, 0, 0], [0.1, 0.6, 0.4, 0.9], rtol=0, atol=6e-8)
    variances = out[0, 1].reshape(-1, 4)
    np.testing.assert_array_equal(variances, np.tile(np.float32([0.1, 0.1, 0.2, 0.2]),
                                                     (16, 1)))


def test_default_step_integer_sizes_clip_and_one_variance():
    # min_size 35.84 is used as 35 (the reference stores it in an int); no step:
    # image side / feature side = 100 both ways; offset 0; clip to [0, 1]
    p = params('min_size: 35.84 clip: true offset: 0 variance: 0.1')
    assert p.min_sizes == (35,) and p.per_location == 1
    out = priorbox.prior_boxes(p, (3, 2), (300, 200))
    boxes = out[0, 0].reshape(3, 2, 4)
    np.testing.assert_allclose(boxes[0, 0], [0, 0, 17.5 / 200, 17.5 / 300], atol=6e-8)
    np.testing.assert_allclose(boxes[2, 1], [(100 - 17.5) / 200, (200 - 17.5) / 300,
                                             (100 + 17.5) / 200, (200 + 17.5) / 300], atol=6e-8)
    np.testing.assert_array_equal(out[0, 1], np.float32(0.1))


def test_aspect_ratios_are_deduplicated_and_flipped():
    assert priorbox.expand_aspect_ratios([2, 2.0000001, 1, 0.5], flip=False) == (1, 2, 0.5)
    assert priorbox.expand_aspect_ratios([2, 3, 0.5], flip=True) == (
        1, 2, np.float32(0.5), 3, np.float32(1 / 3))
    p = params('min_size: 10 min_size: 20 max_size: 15 max_size: 40 aspect_ratio: 3')
    # per min_size: square, sqrt(min * max) square, 3 and 1/3 -> 2 * 4 priors
    sides = priorbox.box_sides(p)
    np.testing.assert_allclose(sides[:, 0], [10, math.sqrt(150), 10 * math.sqrt(3),
                                             10 / math.sqrt(3), 20, math.sqrt(800),
                                             20 * math.sqrt(3), 20 / math.sqrt(3)], rtol=1e-7)


@pytest.mark.parametrize('text, match', [
    ('max_size: 10', 'needs min_size > 0'),
    ('min_size: 30 max_size: 20', 'greater than min_size'),
    ('min_size: 30 variance: 0.1 variance: 0.2', '1 or 4 positive values'),
    ('min_size: 30 step: 8 step_h: 8', 'not both'),
    ('min_size: 30 img_size: 0', 'must be positive'),
    ('min_size: 30 offset_h: 0.5', 'offset_h is not supported'),
])
def test_refusals_name_the_field(text, match):
    with pytest.raises(CaffeError, match=match):
        params(text)
