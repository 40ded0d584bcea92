"""A small SSD that trains from scratch on a CPU: a VGG-style base with batch
normalisation, narrow and at a small input, and SSD's head, coder and loss.

The seed allows it: "SSD300 uses VGG-16 as its base, but a lighter (or a more
accurate) network may be used". Everything geometric follows from the two
numbers ``insize`` and ``width`` and the aspect ratios:

- base: a 3x3 stride-2 convolution (``width`` channels: full-resolution
  layers dominate the cost on a CPU), a 3x3 convolution (``2 width``) and 2x2
  max pooling, two 3x3 convolutions (``4 width``) at insize / 4: the first
  source map; then a 3x3 stride-2 and a 3x3 convolution (``8 width``): the
  second;
- extras: 1x1 (``4 width``) then 3x3 stride 2 (``8 width``) convolutions,
  halving the map (rounding up) until it is 1x1: one source map each;
- default boxes: ``steps = insize / grid`` (:func:`replicate.ssd.geometry.ssd_steps`),
  ``sizes`` from the paper's scale rule (:func:`replicate.ssd.geometry.ssd_sizes`).

Every convolution is followed by batch normalisation and ReLU (no L2
normalisation: the maps are already normalised). For insize 128: maps 32, 16,
8, 4, 2, 1, steps 4 .. 128: relative to the input, the density of SSD300's
first map (step 8 at 300), which is what makes the paper's scale rule fit (a
first map at insize / 8 leaves default boxes too sparse for their sizes:
few ground truths then reach IoU 0.5 with any of them).
"""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from replicate.ssd.channels_last import Convolution2D
from replicate.ssd.geometry import conv_out, ssd_sizes, ssd_steps
from replicate.ssd.multibox import Multibox
from replicate.ssd.ssd import SSD
from replicate.ssd.ssd300 import MEAN, VARIANCE
from replicate.ssd.weights import load_weights

#: Named aspect-ratio sets: per source map, as SSD300's ``aspect_ratios``.
#: '2': (2,) everywhere (4 boxes per location); '2,3': (2, 3) everywhere (6);
#: 'ssd': SSD300's pattern, (2,) on the first and the last two maps, else (2, 3).
ASPECT_RATIO_SETS = ('2', '2,3', 'ssd')


def aspect_ratios(name, n_maps):
    """The aspect ratios of set ``name`` for ``n_maps`` source maps."""
    if name == '2':
        return ((2,),) * n_maps
    if name == '2,3':
        return ((2, 3),) * n_maps
    if name == 'ssd':
        return ((2,),) + ((2, 3),) * (n_maps - 3) + ((2,),) * 2
    raise ValueError('unknown aspect ratio set {!r}; valid: {}'.format(
        name, ', '.join(ASPECT_RATIO_SETS)))


class ConvBN(chainer.Chain):
    """Convolution (no bias), batch normalisation, ReLU."""

    def __init__(self, n_in, n_out, ksize, stride=1, pad=0):
        super().__init__()
        with self.init_scope():
            self.conv = Convolution2D(n_in, n_out, ksize, stride, pad, nobias=True)
            self.bn = L.BatchNormalization(n_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _pool2(h):
    """2x2 stride-2 max pooling, rounding the output size up."""
    return F.max_pooling_2d(h, 2, stride=2, cover_all=True)


class SmallExtractor(chainer.Chain):
    """Source maps of the small base (see the module docstring).

    Args:
        insize (int): input side, a multiple of 8, >= 32 (maps insize / 4,
            insize / 8, then halving to 1).
        width (int): channels of the first block.

    Attributes:
        insize, grids (tuple of int), channels (tuple of int), base_links
        (the four blocks: what a pretrained base would provide).
    """

    def __init__(self, insize=128, width=16):
        super().__init__()
        if insize % 8 or insize < 32:
            raise ValueError('insize must be a multiple of 8 and >= 32, got {}'.format(insize))
        # (name, in, out, stride); source maps after conv3_2 and conv4_2
        self.insize = insize
        blocks = [('conv1', 3, width, 2), ('conv2', width, 2 * width, 1),
                  ('conv3_1', 2 * width, 4 * width, 1), ('conv3_2', 4 * width, 4 * width, 1),
                  ('conv4_1', 4 * width, 8 * width, 2), ('conv4_2', 8 * width, 8 * width, 1)]
        self.base_links = tuple(name for name, _, _, _ in blocks)
        grids = [insize // 4]
        while grids[-1] > 1:
            grids.append(conv_out(grids[-1], 3, 2, 1))
        self.grids = tuple(grids)
        self.channels = (4 * width,) + (8 * width,) * (len(grids) - 1)
        self._blocks = blocks
        self._n_extra = len(grids) - 2
        with self.init_scope():
            for name, n_in, n_out, stride in blocks:
                setattr(self, name, ConvBN(n_in, n_out, 3, stride=stride, pad=1))
            for i in range(self._n_extra):
                setattr(self, 'extra{}_1'.format(i + 1), ConvBN(8 * width, 4 * width, 1))
                setattr(self, 'extra{}_2'.format(i + 1),
                        ConvBN(4 * width, 8 * width, 3, stride=2, pad=1))

    def forward(self, x):
        """float32 (B, 3, insize, insize) -> list of (B, C_k, G_k, G_k)
        (:attr:`channels`, :attr:`grids`)."""
        h = x
        sources = []
        for name, _, _, _ in self._blocks:
            h = self[name](h)
            if name == 'conv2':
                h = _pool2(h)
            elif name in ('conv3_2', 'conv4_2'):
                sources.append(h)
        for i in range(self._n_extra):
            h = self['extra{}_2'.format(i + 1)](self['extra{}_1'.format(i + 1)](h))
            sources.append(h)
        return sources


class SmallSSD(SSD):
    """The small SSD (see the module docstring).

    Args:
        n_fg_class (int): classes without the background.
        insize (int), width (int): see :class:`SmallExtractor`.
        ratios (str): an aspect ratio set of :data:`ASPECT_RATIO_SETS`.
        min_ratio, max_ratio (int): the scale rule's percents
            (:func:`replicate.ssd.geometry.ssd_sizes`; SSD300's 20, 90).
        pretrained_model (str or None): path of an .npz of this configuration.
        resize_backend (str or None): as :class:`replicate.SSD`'s.
    """

    def __init__(self, n_fg_class, insize=128, width=16, ratios='ssd', min_ratio=20,
                 max_ratio=90, pretrained_model=None, resize_backend=None):
        extractor = SmallExtractor(insize, width)
        n_maps = len(extractor.grids)
        multibox = Multibox(n_fg_class + 1, aspect_ratios(ratios, n_maps), extractor.channels)
        super().__init__(extractor, multibox, ssd_steps(insize, extractor.grids),
                         ssd_sizes(insize, n_maps, min_ratio, max_ratio), VARIANCE,
                         np.array(MEAN), resize_backend)
        if pretrained_model:
            load_weights(self, pretrained_model)
