"""SSD's feature maps on MobileNetV2: the two base outputs plus extra layers.

The OD API's ``KerasMultiResolutionFeatureMaps`` with the layout of
``ssd_mobilenet_v2_keras``: maps 0 and 1 are the base's
``layer_15/expansion_output`` and ``layer_19``; each further map k (2..5) is a
1x1 convolution to depth(d_k / 2) then a 3x3 stride-2 convolution to
depth(d_k), each followed by the config's batch norm and activation, with
nominal depths d = (512, 256, 256, 128) and depth(d) = max(int(d * depth
multiplier), min_depth). Layer names are the OD API's, e.g.
``layer_19_1_Conv2d_2_1x1_256_conv`` / ``_batchnorm`` and the activation
``layer_19_1_Conv2d_2_1x1_256``.
"""
import chainer

from replicate.odapi.layers import Activation, BatchNorm, Conv2D, output_size
from replicate.odapi.mobilenet_v2 import KERAS_ACTIVATION, KERAS_BATCH_NORM, MobileNetV2Base

#: Nominal depths of the extra maps 2..5.
EXTRA_DEPTHS = (512, 256, 256, 128)
#: The base layer the extra maps grow from, as the OD API names it.
BASE_FROM_LAYER = 'layer_19'
#: Strides of the two base outputs.
BASE_STRIDES = (16, 32)


def extra_layer_names(index, depth_1x1, depth_3x3):
    """The OD API's names of extra map ``index``: (1x1 layer, 3x3 layer)."""
    return ('{}_1_Conv2d_{}_1x1_{}'.format(BASE_FROM_LAYER, index, depth_1x1),
            '{}_2_Conv2d_{}_3x3_s2_{}'.format(BASE_FROM_LAYER, index, depth_3x3))


def map_sizes(image_size, num_layers):
    """(height, width) of each feature map for an input of ``image_size``:
    the base outputs at strides 16 and 32 (ceil divisions, as TF's 'SAME'),
    each extra map half the previous one, rounded up."""
    sizes = []
    for stride in BASE_STRIDES:
        sizes.append(tuple(-(-side // stride) for side in image_size))
    while len(sizes) < num_layers:
        sizes.append(tuple(output_size(side, 3, 2) for side in sizes[-1]))
    return tuple(sizes)


class ExtraFeatureMaps(chainer.Chain):
    """The extra maps 2..num_layers-1 (see the module doc).

    Args:
        in_channels (int): width of ``layer_19``.
        num_layers (int): total feature maps (2..6).
        depth_multiplier (float), min_depth (int): the extractor's.
        hyperparams (replicate.odapi.config.ConvHyperparams): batch norm,
            activation and bias of these layers.
        padding (str): ``'same'`` or ``'explicit'``.

    Attributes:
        layers (list of list of str): per extra map, its link names in order.
        channels (tuple of int): width of each extra map.
    """

    def __init__(self, in_channels, num_layers, depth_multiplier, min_depth, hyperparams,
                 padding='same'):
        super().__init__()
        def depth(nominal):
            return max(int(nominal * depth_multiplier), min_depth)
        self.layers, channels = [], []
        with self.init_scope():
            for index, nominal in enumerate(EXTRA_DEPTHS[:num_layers - 2], start=2):
                names = extra_layer_names(index, depth(nominal // 2), depth(nominal))
                widths = (depth(nominal // 2), depth(nominal))
                layer = []
                for name, width, ksize, stride in zip(names, widths, (1, 3), (1, 2), strict=True):
                    layer += self._add_layer(name, in_channels, width, ksize, stride,
                                             hyperparams, padding)
                    in_channels = width
                self.layers.append(layer)
                channels.append(in_channels)
        self.channels = tuple(channels)

    def _add_layer(self, name, in_channels, out_channels, ksize, stride, hyperparams,
                   padding):
        """Conv -> batch norm -> activation; returns the link names in order."""
        setattr(self, name + '_conv', Conv2D(in_channels, out_channels, ksize, stride,
                                             bias=hyperparams.use_bias, padding=padding))
        names = [name + '_conv']
        bn = hyperparams.batch_norm
        if bn is not None:
            setattr(self, name + '_batchnorm', BatchNorm(out_channels, bn.epsilon, bn.scale,
                                                         bn.center))
            names.append(name + '_batchnorm')
        setattr(self, name, Activation(hyperparams.activation))
        return names + [name]

    def forward(self, x):
        """``layer_19`` (B, C, h, w) -> list of the extra maps, each half the last."""
        maps = []
        h = x
        for layer in self.layers:
            for name in layer:
                h = self[name](h)
            maps.append(h)
        return maps


class SSDMobileNetV2Extractor(chainer.Chain):
    """The OD API's ``ssd_mobilenet_v2_keras`` feature extractor.

    Args:
        config (replicate.odapi.config.FeatureExtractor): the extractor's part
            of the pipeline config.
        image_size (tuple of int): the fixed input (height, width).

    Attributes:
        grids (tuple of (int, int)): (height, width) of each feature map.
        channels (tuple of int): width of each feature map.
        base_links (tuple of str): the pretrained base, ``('base',)``, for
            freezing it while the rest trains.
    """
    base_links = ('base',)

    def __init__(self, config, image_size):
        super().__init__()
        padding = 'explicit' if config.use_explicit_padding else 'same'
        hyperparams = config.conv_hyperparams
        if config.override_base_hyperparams:
            base_bn, base_act = hyperparams.batch_norm, hyperparams.activation
        else:
            base_bn, base_act = KERAS_BATCH_NORM, KERAS_ACTIVATION
        with self.init_scope():
            self.base = MobileNetV2Base(config.depth_multiplier, config.min_depth, base_bn,
                                        base_act, padding)
            self.extras = ExtraFeatureMaps(self.base.channels[1], config.num_layers,
                                           config.depth_multiplier, config.min_depth,
                                           hyperparams, padding)
        self.image_size = tuple(image_size)
        self.grids = map_sizes(self.image_size, config.num_layers)
        self.channels = self.base.channels + self.extras.channels

    def forward(self, x):
        """float32 (B, 3, H, W) preprocessed images -> list of feature maps
        (B, C_k, H_k, W_k), k = 0..num_layers-1 (see :attr:`grids`)."""
        tap, top = self.base(x)
        return [tap, top] + self.extras(top)
