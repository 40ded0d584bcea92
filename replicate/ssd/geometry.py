"""Default-box geometry from a model's configuration: the paper's scale rule.

Liu et al. (2016, eq. 4) space the box scales of the m source maps evenly
between s_min and s_max. Their Caffe scripts (``ssd_pascal.py``,
``ssd_pascal_512.py``), whose numbers ChainerCV and :mod:`replicate.ssd.ssd300` /
:mod:`replicate.ssd.ssd512` keep, do it in whole percent of the input side:

- ``step = floor((max_ratio - min_ratio) / (m - 2))``;
- maps 2..m get ``min_ratio, min_ratio + step, ...`` percent, the last box
  size (the sqrt(s_k s_k+1) square of map m) ``step`` percent more;
- map 1 gets ``first_ratio`` percent (10 for SSD300, 7 for SSD512).

So ``sizes`` has m + 1 entries, map k using sizes[k] and sizes[k + 1]
(:func:`replicate.ssd.coder.box_shapes`). SSD300: ``ssd_sizes(300, 6, 20, 90,
10)`` = (30, 60, 111, 162, 213, 264, 315); SSD512: ``ssd_sizes(512, 7, 15, 90,
7)`` = (35.84, 76.8, ..., 537.6) (a test checks both).
"""
import math


def ssd_sizes(insize, n_maps, min_ratio=20, max_ratio=90, first_ratio=None):
    """Default box sizes in input pixels, a tuple of ``n_maps + 1`` floats.

    Args:
        insize (int): the input side in pixels.
        n_maps (int): number of source maps, >= 3.
        min_ratio, max_ratio (int): percent of ``insize`` for maps 2 and m.
        first_ratio (float): percent for map 1; default ``min_ratio / 2``.
    """
    if n_maps < 3:
        raise ValueError('the scale rule needs at least 3 source maps, got {}'.format(n_maps))
    step = int(math.floor((max_ratio - min_ratio) / (n_maps - 2)))
    ratios = [min_ratio + step * i for i in range(n_maps - 1)]
    first = min_ratio / 2 if first_ratio is None else first_ratio
    percents = [first] + ratios + [ratios[-1] + step]
    return tuple(insize * p / 100 for p in percents)


def ssd_steps(insize, grids):
    """Pixels between default box centres on each map: ``insize / grid``, so
    the centres of every map tile the input exactly."""
    return tuple(insize / grid for grid in grids)


def conv_out(size, ksize, stride, pad):
    """Output side of a convolution (floor mode)."""
    return (size + 2 * pad - ksize) // stride + 1
