"""The VGG-16 feature extractors of SSD300 and SSD512 (Liu et al., ECCV 2016,
Fig. 2 and section 3.1).

Parameter names follow ChainerCV (``conv1_1`` .. ``conv5_3``, ``norm4``,
``conv6`` = fc6, ``conv7`` = fc7, ``conv8_1`` .. ``conv11_2``) so ChainerCV
weight files load unchanged. Every layer is built with its input channel count,
so all parameters exist right after construction (ChainerCV's are lazy).
"""
import chainer
import chainer.functions as F
from chainer import initializers

from replicate.ssd.channels_last import Convolution2D, max_pooling_2d
from replicate.ssd.normalize import Normalize

# (name, in_channels, out_channels): 3x3, stride 1, pad 1, then ReLU.
# Caffe-style 2x2 max pooling (ceil mode) follows conv1_2, conv2_2, conv3_3,
# conv4_3; 3x3/1/1 pooling follows conv5_3.
BASE_CONVS = (
    ('conv1_1', 3, 64), ('conv1_2', 64, 64),
    ('conv2_1', 64, 128), ('conv2_2', 128, 128),
    ('conv3_1', 128, 256), ('conv3_2', 256, 256), ('conv3_3', 256, 256),
    ('conv4_1', 256, 512), ('conv4_2', 512, 512), ('conv4_3', 512, 512),
    ('conv5_1', 512, 512), ('conv5_2', 512, 512), ('conv5_3', 512, 512),
)
POOL_AFTER = ('conv1_2', 'conv2_2', 'conv3_3')
#: Links that come from VGG-16 (ImageNet weights). norm4 (ParseNet L2
#: normalisation with a learned scale) is not among them: it is SSD's
#: addition, absent from the ImageNet file, so it trains with the heads.
BASE_LINKS = tuple(name for name, _, _ in BASE_CONVS) + ('conv6', 'conv7')

# (name, in_channels, out_channels, ksize, stride, pad), each followed by ReLU;
# every *_2 output is a source map. SSD300: 19 -> 10 -> 5 -> 3 -> 1.
EXTRA_CONVS = (
    ('conv8_1', 1024, 256, 1, 1, 0), ('conv8_2', 256, 512, 3, 2, 1),
    ('conv9_1', 512, 128, 1, 1, 0), ('conv9_2', 128, 256, 3, 2, 1),
    ('conv10_1', 256, 128, 1, 1, 0), ('conv10_2', 128, 256, 3, 1, 0),
    ('conv11_1', 256, 128, 1, 1, 0), ('conv11_2', 128, 256, 3, 1, 0),
)
# SSD512: 32 -> 16 -> 8 -> 4 -> 2 -> 1 (the last a 4x4 conv with pad 1).
EXTRA_CONVS_512 = (
    ('conv8_1', 1024, 256, 1, 1, 0), ('conv8_2', 256, 512, 3, 2, 1),
    ('conv9_1', 512, 128, 1, 1, 0), ('conv9_2', 128, 256, 3, 2, 1),
    ('conv10_1', 256, 128, 1, 1, 0), ('conv10_2', 128, 256, 3, 2, 1),
    ('conv11_1', 256, 128, 1, 1, 0), ('conv11_2', 128, 256, 3, 2, 1),
    ('conv12_1', 256, 128, 1, 1, 0), ('conv12_2', 128, 256, 4, 1, 1),
)


def _pool2(h):
    """2x2 stride-2 max pooling, rounding the output size up (Caffe's ceil
    mode = Chainer's ``cover_all=True``): 75 -> 38, 38 -> 19."""
    return max_pooling_2d(h, 2, stride=2, cover_all=True)


class VGG16Extractor(chainer.Chain):
    """Source maps from VGG-16 and extra layers; the two subclasses below fix
    the numbers (class attributes only: one forward for both).

    Attributes:
        insize (int): the side images are resized to.
        grids (tuple of int): the source map sides.
        channels (tuple of int): the source map channels.
        extra_convs: the table of extra layers after conv7.
        base_links (tuple of str): the links with ImageNet weights.
    """

    insize = None
    grids = ()
    channels = ()
    extra_convs = ()
    base_links = BASE_LINKS

    def __init__(self):
        super().__init__()
        extra_init = {'initialW': initializers.LeCunUniform(),
                      'initial_bias': initializers.Zero()}
        with self.init_scope():
            for name, n_in, n_out in BASE_CONVS:
                setattr(self, name, Convolution2D(n_in, n_out, 3, pad=1))
            self.norm4 = Normalize(512, initial=initializers.Constant(20))
            # fc6 as a dilated 3x3 conv, fc7 as a 1x1 conv (subsampled fc layers)
            self.conv6 = Convolution2D(512, 1024, 3, pad=6, dilate=6)
            self.conv7 = Convolution2D(1024, 1024, 1)
            for name, n_in, n_out, ksize, stride, pad in self.extra_convs:
                setattr(self, name, Convolution2D(
                    n_in, n_out, ksize, stride=stride, pad=pad, **extra_init))

    def _conv(self, name, h):
        return F.relu(self[name](h))

    def forward(self, x):
        """Compute the source maps.

        Args:
            x: float32 (B, 3, insize, insize), RGB minus the mean.

        Returns:
            list of Variables, float32 (B, C_k, G_k, G_k) with C_k, G_k from
            :attr:`channels` and :attr:`grids`: L2-normalised conv4_3, conv7,
            then every ``conv*_2`` of :attr:`extra_convs`.
        """
        h = x
        sources = []
        for name, _, _ in BASE_CONVS:
            h = self._conv(name, h)
            if name in POOL_AFTER:
                h = _pool2(h)
            elif name == 'conv4_3':
                sources.append(self.norm4(h))
                h = _pool2(h)
        h = max_pooling_2d(h, 3, stride=1, pad=1, cover_all=True)
        h = self._conv('conv7', self._conv('conv6', h))
        sources.append(h)
        for name, _, _, _, _, _ in self.extra_convs:
            h = self._conv(name, h)
            if name.endswith('_2'):
                sources.append(h)
        return sources


class VGG16Extractor300(VGG16Extractor):
    """Six source maps from a batch of 300x300 images:
    grids (38, 19, 10, 5, 3, 1), channels (512, 1024, 512, 256, 256, 256)."""

    insize = 300
    grids = (38, 19, 10, 5, 3, 1)
    channels = (512, 1024, 512, 256, 256, 256)
    extra_convs = EXTRA_CONVS


class VGG16Extractor512(VGG16Extractor):
    """Seven source maps from a batch of 512x512 images:
    grids (64, 32, 16, 8, 4, 2, 1), channels (512, 1024, 512, 256, 256, 256, 256)."""

    insize = 512
    grids = (64, 32, 16, 8, 4, 2, 1)
    channels = (512, 1024, 512, 256, 256, 256, 256)
    extra_convs = EXTRA_CONVS_512
