"""The small SSD: its default-box geometry follows from its configuration."""
import chainer
import numpy as np
import pytest

from replicate.ssd.coder import MultiboxCoder
from replicate.ssd.geometry import ssd_sizes, ssd_steps
from replicate.ssd.small import SmallSSD, aspect_ratios


@pytest.mark.parametrize('insize, grids', [(128, (32, 16, 8, 4, 2, 1)),
                                           (96, (24, 12, 6, 3, 2, 1)),
                                           (32, (8, 4, 2, 1))])
def test_geometry_follows_the_configuration(insize, grids):
    model = SmallSSD(3, insize=insize, width=4, ratios='2,3')
    assert model.extractor.grids == grids
    want = MultiboxCoder(grids, aspect_ratios('2,3', len(grids)), ssd_steps(insize, grids),
                         ssd_sizes(insize, len(grids)), (0.1, 0.2))
    np.testing.assert_array_equal(model.coder._default_bbox, want._default_bbox)
    x = np.zeros((1, 3, insize, insize), np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        locs, confs = model(x)
    assert locs.shape == (1, sum(g * g * 6 for g in grids), 4) and confs.shape[2] == 4


def test_aspect_ratio_sets_and_widths():
    assert aspect_ratios('ssd', 6) == ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))
    assert [sum(SmallSSD(5, ratios=r, width=8).coder.counts) for r in ('2', 'ssd', '2,3')] \
        == [5460, 6132, 8190]
    light, heavy = (sum(p.size for p in SmallSSD(5, width=w).params()) for w in (8, 16))
    assert 2.5 < heavy / light < 3.5
    with pytest.raises(ValueError, match='unknown aspect ratio set'):
        aspect_ratios('4', 3)
    with pytest.raises(ValueError, match='multiple of 8'):
        SmallSSD(5, insize=100)
