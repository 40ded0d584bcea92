"""Anchors, padding, widths and feature-map sizes against hand-computed numbers."""
import numpy as np
import pytest
from odapi_paths import PIPELINE

from replicate.odapi import anchors, config, layers, mobilenet_v2
from replicate.odapi.feature_maps import ExtraFeatureMaps, map_sizes
from replicate.odapi.textproto import read


@pytest.fixture(scope='module')
def fixture_config():
    return config.from_message(read(PIPELINE))


def test_box_specs_reduce_the_lowest_layer(fixture_config):
    specs = anchors.box_specs(fixture_config.anchors)
    # 0.1 is the OD API's constant; 0.2 the config's min_scale (a float32)
    assert specs[0] == [(0.1, 1.0), (float(np.float32(0.2)), 2.0), (float(np.float32(0.2)), 0.5)]
    scale, interpolated = specs[1][0][0], specs[1][-1][0]
    assert scale == pytest.approx(0.35)
    assert interpolated == pytest.approx(np.sqrt(0.35 * 0.5))
    assert [r for _, r in specs[1]] == pytest.approx([1.0, 2.0, 0.5, 3.0, 0.3333, 1.0])
    assert specs[5][0][0] == pytest.approx(0.95) and specs[5][-1][0] == pytest.approx(
        np.sqrt(0.95 * 1.0))
    assert anchors.boxes_per_location(fixture_config.anchors) == (3, 6, 6, 6, 6, 6)


def test_first_anchors_by_hand(fixture_config):
    grids = map_sizes((128, 128), 6)
    assert grids == ((8, 8), (4, 4), (2, 2), (1, 1), (1, 1), (1, 1))
    boxes = anchors.generate(fixture_config.anchors, grids, (128, 128))
    assert boxes.dtype == np.float32 and boxes.shape == (8 * 8 * 3 + 16 * 6 + 4 * 6 + 3 * 6, 4)
    # map 0, cell (0, 0), center 1/16: a 0.1 square, then (0.2, ratio 2): 0.2/sqrt(2) high
    np.testing.assert_allclose(boxes[0], [0.0125, 0.0125, 0.1125, 0.1125], rtol=1e-6)
    h, w = 0.2 / np.sqrt(2), 0.2 * np.sqrt(2)
    np.testing.assert_allclose(boxes[1], [0.0625 - h / 2, 0.0625 - w / 2, 0.0625 + h / 2,
                                          0.0625 + w / 2], rtol=1e-6)
    # map 0, cell (0, 1): x center 3/16 (order: row, column, box)
    np.testing.assert_allclose(boxes[3], [0.0125, 0.1375, 0.1125, 0.2375], rtol=1e-6)
    # the last map is 1x1: centered, its last box sqrt(0.95) square
    side = np.sqrt(0.95)
    np.testing.assert_allclose(boxes[-1], [0.5 - side / 2] * 2 + [0.5 + side / 2] * 2, rtol=1e-6)


def test_standard_300_layout_has_1917_anchors(fixture_config):
    grids = map_sizes((300, 300), 6)
    assert grids == ((19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1))
    assert len(anchors.generate(fixture_config.anchors, grids, (300, 300))) == 1917


def test_non_square_input_keeps_anchors_square_in_pixels(fixture_config):
    boxes = anchors.generate(fixture_config.anchors, map_sizes((96, 192), 6), (96, 192))
    # the first box is a 0.1 square in units of the shorter side: 9.6 x 9.6 pixels
    heights = (boxes[:, 2] - boxes[:, 0]) * 96
    widths = (boxes[:, 3] - boxes[:, 1]) * 192
    assert heights[0] == pytest.approx(9.6, rel=1e-5) and widths[0] == pytest.approx(9.6, rel=1e-5)


@pytest.mark.parametrize('size, ksize, stride, pads', [
    (300, 3, 2, (0, 1)), (150, 3, 2, (0, 1)), (75, 3, 2, (1, 1)), (19, 3, 2, (1, 1)),
    (10, 3, 2, (0, 1)), (2, 3, 2, (0, 1)), (1, 3, 2, (1, 1)), (8, 3, 1, (1, 1)),
    (8, 1, 1, (0, 0)), (7, 5, 1, (2, 2))])
def test_tf_same_padding(size, ksize, stride, pads):
    assert layers.same_padding(size, ksize, stride) == pads


def test_explicit_padding():
    assert layers.explicit_padding(3) == (1, 1) and layers.explicit_padding(1) == (0, 0)
    assert layers.explicit_padding(4) == (1, 2)


def _widths(alpha, min_depth):
    blocks = mobilenet_v2.layout(alpha, min_depth)
    outs = [block.units[-1].out_channels for block in blocks]
    adds = [k - 1 for k, block in enumerate(blocks) if block.add]
    return outs, adds


def test_mobilenet_v2_widths_alpha_1():
    outs, adds = _widths(1.0, 16)
    assert outs == [32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320,
                    1280]
    assert adds == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]
    assert mobilenet_v2.MobileNetV2Base(1.0, 16).channels == (576, 1280)


def test_mobilenet_v2_widths_alpha_quarter_min_depth_drops_residuals():
    outs, adds = _widths(0.25, 16)
    # 8-wide blocks are raised to min_depth 16, but keep their nominal width 8 for
    # the residual test (as Keras computes it): blocks 2, 4, 5 lose their Add
    assert outs == [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 24, 24, 24, 40, 40, 40, 80, 320]
    assert adds == [7, 8, 9, 11, 12, 14, 15]
    assert mobilenet_v2.make_divisible(0.25 * 32) == 8 and mobilenet_v2.make_divisible(6) == 8


def test_extra_feature_map_names_and_widths(fixture_config):
    hyper = fixture_config.feature_extractor.conv_hyperparams
    extras = ExtraFeatureMaps(1280, 6, 1.0, 16, hyper)
    assert extras.channels == (512, 256, 256, 128)
    assert extras.layers[0] == ['layer_19_1_Conv2d_2_1x1_256_conv',
                                'layer_19_1_Conv2d_2_1x1_256_batchnorm',
                                'layer_19_1_Conv2d_2_1x1_256',
                                'layer_19_2_Conv2d_2_3x3_s2_512_conv',
                                'layer_19_2_Conv2d_2_3x3_s2_512_batchnorm',
                                'layer_19_2_Conv2d_2_3x3_s2_512']
    assert extras.layers[3][0] == 'layer_19_1_Conv2d_5_1x1_64_conv'
    assert ExtraFeatureMaps(320, 6, 0.25, 16, hyper).channels == (128, 64, 64, 32)
