"""Default boxes: equal to ChainerCV's, counted per map, and checked against
numbers computed by hand from the SSD paper's construction."""
import math

import numpy as np
import pytest
from chainercv.links.model.ssd import MultiboxCoder as CVCoder

from replicate import MultiboxCoder, default_box_counts
from replicate.ssd.ssd300 import ASPECT_RATIOS, SIZES, STEPS, VARIANCE, ssd300_coder
from replicate.ssd.vgg16 import VGG16Extractor300

GRIDS = VGG16Extractor300.grids


@pytest.fixture(scope='module')
def coder():
    return MultiboxCoder(GRIDS, ASPECT_RATIOS, STEPS, SIZES, VARIANCE)


def test_equal_to_chainercv(coder):
    theirs = CVCoder(GRIDS, ASPECT_RATIOS, STEPS, SIZES, VARIANCE)._default_bbox
    assert coder._default_bbox.shape == theirs.shape == (8732, 4)
    assert coder._default_bbox.dtype == theirs.dtype
    np.testing.assert_allclose(coder._default_bbox, theirs, rtol=0, atol=1e-12)


def test_the_coder_without_a_model_is_the_models():
    # what re-decoding kept network outputs uses (compare.score.redecode)
    from replicate import SSD300
    model, alone = SSD300(n_fg_class=20), ssd300_coder()
    np.testing.assert_array_equal(alone._default_bbox, model.coder._default_bbox)
    assert alone._variance == model.coder._variance == VARIANCE
    assert alone.counts == model.coder.counts


def test_counts(coder):
    assert coder.counts == (5776, 2166, 600, 150, 36, 4)
    assert default_box_counts(GRIDS, ASPECT_RATIOS) == coder.counts
    assert sum(coder.counts) == len(coder._default_bbox) == 8732


def test_first_boxes_of_map0(coder):
    # center of cell (0, 0) with step 8 is (4, 4); s = 30, s' = sqrt(30 * 60)
    r2 = math.sqrt(2.0)
    expected = [(4, 4, 30, 30), (4, 4, math.sqrt(1800), math.sqrt(1800)),
                (4, 4, 30 / r2, 30 * r2), (4, 4, 30 * r2, 30 / r2)]
    np.testing.assert_allclose(coder._default_bbox[:4], expected, rtol=1e-15)
    # next location is one column right: (4, 12)
    np.testing.assert_allclose(coder._default_bbox[4], (4, 12, 30, 30))
    # last box of map 0: cell (37, 37), center 37.5 * 8 = 300
    np.testing.assert_allclose(coder._default_bbox[5775], (300, 300, 30 * r2, 30 / r2))


def test_map_boundaries_and_last_box(coder):
    r2, r3 = math.sqrt(2.0), math.sqrt(3.0)
    # map 1 starts at 5776: center 0.5 * 16 = 8, size 60
    np.testing.assert_allclose(coder._default_bbox[5776], (8, 8, 60, 60))
    # map 1 has ratios (2, 3): box 5 at a location is (s * sqrt 3, s / sqrt 3)
    np.testing.assert_allclose(coder._default_bbox[5776 + 5], (8, 8, 60 * r3, 60 / r3))
    # map 5: a single cell of step 300, center 150, sizes 264 and 315
    last = coder._default_bbox[-4:]
    np.testing.assert_allclose(last, [
        (150, 150, 264, 264), (150, 150, math.sqrt(264 * 315), math.sqrt(264 * 315)),
        (150, 150, 264 / r2, 264 * r2), (150, 150, 264 * r2, 264 / r2)])


def test_aspect_boxes_keep_area_and_ratio(coder):
    boxes = coder._default_bbox[:5776].reshape(38 * 38, 4, 4)
    h, w = boxes[:, 2:, 2], boxes[:, 2:, 3]
    np.testing.assert_allclose(h * w, 30.0 ** 2)
    np.testing.assert_allclose(w / h, [2.0, 0.5] * np.ones_like(h))


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match='len'):
        MultiboxCoder(GRIDS, ASPECT_RATIOS, STEPS, SIZES[:-1], VARIANCE)
