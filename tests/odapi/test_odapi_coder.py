"""The Faster R-CNN box coder and the argmax matcher."""
import numpy as np
import pytest

from replicate.odapi.coder import BoxCoder
from replicate.odapi.config import Matcher
from replicate.odapi.errors import ConfigError

ANCHORS = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.75, 0.75], [0.5, 0.5, 1.0, 1.0],
                    [0.0, 0.5, 0.2, 1.0]], dtype=np.float32)


def coder(force=True, unmatched=0.5):
    return BoxCoder(ANCHORS, (10.0, 10.0, 5.0, 5.0), Matcher(0.5, unmatched, force), (100, 200))


def test_decode_by_hand():
    codes = np.zeros((4, 4), np.float32)
    # anchor 1: center (0.5, 0.5), size 0.5: ty = 10 * 0.1 / 0.5 = 2 moves it down by 0.1;
    # th = 5 log 2 doubles its height
    codes[1] = [2.0, 0.0, 5 * np.log(2.0), 0.0]
    boxes = BoxCoder(ANCHORS, (10.0, 10.0, 5.0, 5.0)).decode(codes[None])
    assert boxes.shape == (1, 4, 4) and boxes.dtype == np.float32
    np.testing.assert_allclose(boxes[0, 0], ANCHORS[0], atol=1e-7)
    np.testing.assert_allclose(boxes[0, 1], [0.1, 0.25, 1.1, 0.75], rtol=1e-6)


def test_encode_then_decode_returns_the_boxes():
    rng = np.random.default_rng(0)
    y, x = rng.uniform(0, 0.7, (2, 4))
    h, w = rng.uniform(0.05, 0.3, (2, 4))
    boxes = np.stack([y, x, y + h, x + w], axis=1).astype(np.float32)
    c = coder()
    codes = c.encode_boxes(boxes, ANCHORS)
    np.testing.assert_allclose(c.decode(codes), boxes, atol=1e-6)


def test_matcher_thresholds_and_forced_matches():
    iou = np.array([[0.7, 0.1],     # anchor 0: box 0
                    [0.55, 0.6],    # anchor 1: box 1 (its best)
                    [0.45, 0.2],    # anchor 2: below 0.5 -> background, unless forced
                    [0.3, 0.3]])    # anchor 3: background
    np.testing.assert_array_equal(coder(force=False).match(iou), [0, 1, -1, -1])
    # unmatched threshold 0.4: 0.45 lies between the thresholds -> ignored (-2)
    np.testing.assert_array_equal(coder(force=False, unmatched=0.4).match(iou), [0, 1, -2, -1])
    # each box takes its best anchor: box 0 -> anchor 0, box 1 -> anchor 1 (unchanged)
    iou[2] = [0.45, 0.65]  # now box 1's best anchor is 2, and box 0 still wins anchor 0
    np.testing.assert_array_equal(coder().match(iou), [0, 1, 1, -1])
    # two boxes wanting one anchor: the lower box index wins
    tie = np.array([[0.3, 0.3], [0.1, 0.1], [0.0, 0.0], [0.0, 0.0]])
    assert coder().match(tie)[0] == 0


def test_encode_targets_in_input_pixels():
    # ground truth exactly on anchor 2, given in the 100x200 input's pixels
    codes, labels = coder().encode(np.array([[50.0, 100.0, 100.0, 200.0]], np.float32),
                                   np.array([4], np.int32))
    assert codes.shape == (4, 4) and codes.dtype == np.float32 and labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0, 0, 5, 0])
    np.testing.assert_allclose(codes[2], 0, atol=1e-5)
    empty = coder().encode(np.zeros((0, 4), np.float32), np.zeros(0, np.int32))
    assert not empty[0].any() and not empty[1].any()


def test_encode_without_matcher_names_the_field():
    with pytest.raises(ConfigError, match='^model.ssd.matcher:'):
        BoxCoder(ANCHORS, (10, 10, 5, 5)).encode(np.ones((1, 4), np.float32),
                                                np.zeros(1, np.int32))
