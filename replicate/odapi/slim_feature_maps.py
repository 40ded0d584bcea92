"""The OD API's TF1 ``ssd_mobilenet_v2`` feature extractor: the slim base
(:mod:`replicate.odapi.slim_mobilenet_v2`) plus the extra layers of
``feature_map_generators.multi_resolution_feature_maps``.

Maps 0 and 1 are the base's taps; each further map k (2..5) is a 1x1
convolution ``layer_19_1_Conv2d_k_1x1_<d/2>`` then a 3x3 stride-2 layer
``layer_19_2_Conv2d_k_3x3_s2_<d>`` with nominal depths d = (512, 256, 256,
128), widths ``max(int(d * depth_multiplier), min_depth)``. With
``use_depthwise`` (SSDLite) the 3x3 layer is a depthwise 3x3 stride 2 named
``..._depthwise`` followed by a 1x1 convolution under the layer's own name.
Every extra convolution has the config's batch norm and activation (a bias
only without batch norm). The layers live in the same TF scope as the base,
``FeatureExtractor/MobilenetV2/``.
"""
import chainer
import numpy as np

from replicate.odapi.config import BatchNorm
from replicate.odapi.feature_maps import EXTRA_DEPTHS, map_sizes
from replicate.odapi.slim_mobilenet_v2 import SlimConv, SlimMobileNetV2Base

#: slim MobileNetV2's own batch norm (gamma and beta; slim's epsilon 0.001,
#: which TF holds as a float32 attribute of each FusedBatchNorm op).
SLIM_BATCH_NORM = BatchNorm(epsilon=float(np.float32(0.001)), scale=True, center=True)
SLIM_ACTIVATION = 'RELU_6'


def extra_layers(index, depth_1x1, depth_3x3, use_depthwise):
    """Scope names of extra map ``index``, in order, with (ksize, stride, depthwise, out)."""
    first = 'layer_19_1_Conv2d_{}_1x1_{}'.format(index, depth_1x1)
    second = 'layer_19_2_Conv2d_{}_3x3_s2_{}'.format(index, depth_3x3)
    if use_depthwise:
        return [(first, 1, 1, False, depth_1x1), (second + '_depthwise', 3, 2, True, depth_1x1),
                (second, 1, 1, False, depth_3x3)]
    return [(first, 1, 1, False, depth_1x1), (second, 3, 2, False, depth_3x3)]


class SlimExtraFeatureMaps(chainer.Chain):
    """The extra maps 2..num_layers-1 (module doc).

    Args:
        in_channels (int): width of ``layer_19``. num_layers (int): all maps (2..6).
        depth_multiplier (float), min_depth (int), use_depthwise (bool): the extractor's.
        hyperparams (replicate.odapi.config.ConvHyperparams): batch norm and activation.
        padding (str): ``'same'`` or ``'explicit'``.

    Attributes:
        layers (list of list of str): per extra map, its scope names in order.
        channels (tuple of int): width of each extra map.
    """

    def __init__(self, in_channels, num_layers, depth_multiplier, min_depth, use_depthwise,
                 hyperparams, padding='same'):
        super().__init__()
        def depth(nominal):
            return max(int(nominal * depth_multiplier), min_depth)
        self.layers, channels = [], []
        with self.init_scope():
            for index, nominal in enumerate(EXTRA_DEPTHS[:num_layers - 2], start=2):
                names = []
                for name, ksize, stride, depthwise, out in extra_layers(
                        index, depth(nominal // 2), depth(nominal), use_depthwise):
                    setattr(self, name, SlimConv(in_channels, out, ksize, stride, depthwise,
                                                 hyperparams.batch_norm, hyperparams.activation,
                                                 bias=hyperparams.use_bias, padding=padding))
                    names.append(name)
                    in_channels = out
                self.layers.append(names)
                channels.append(in_channels)
        self.channels = tuple(channels)

    def forward(self, x):
        """``layer_19`` (B, C, h, w) -> list of the extra maps, each half the last."""
        maps, h = [], x
        for names in self.layers:
            for name in names:
                h = self[name](h)
            maps.append(h)
        return maps


class SlimSSDMobileNetV2Extractor(chainer.Chain):
    """The TF1 ``ssd_mobilenet_v2`` feature extractor.

    Args:
        config (replicate.odapi.config.FeatureExtractor): ``type`` ``ssd_mobilenet_v2``.
        image_size (tuple of int): the fixed input (height, width).

    Attributes:
        grids, channels: as :class:`replicate.odapi.feature_maps.SSDMobileNetV2Extractor`.
    """
    base_links = ('base',)

    def __init__(self, config, image_size):
        super().__init__()
        padding = 'explicit' if config.use_explicit_padding else 'same'
        hyperparams = config.conv_hyperparams
        # slim's MobileNetV2 defaults set ReLU6 inside the base whatever the
        # config says; override_base... replaces its batch norm parameters
        base_bn = hyperparams.batch_norm if config.override_base_hyperparams else SLIM_BATCH_NORM
        with self.init_scope():
            self.base = SlimMobileNetV2Base(config.depth_multiplier, config.min_depth, base_bn,
                                            SLIM_ACTIVATION, padding)
            self.extras = SlimExtraFeatureMaps(self.base.channels[1], config.num_layers,
                                               config.depth_multiplier, config.min_depth,
                                               config.use_depthwise, hyperparams, padding)
        self.image_size = tuple(image_size)
        self.grids = map_sizes(self.image_size, config.num_layers)
        self.channels = self.base.channels + self.extras.channels

    def forward(self, x):
        """float32 (B, 3, H, W) preprocessed images -> list of feature maps."""
        tap, top = self.base(x)
        return [tap, top] + self.extras(top)
