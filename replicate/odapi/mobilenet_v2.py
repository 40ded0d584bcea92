"""MobileNetV2 (Sandler et al., CVPR 2018) as the OD API builds it for SSD.

The OD API takes the Keras application ``tf.keras.applications.MobileNetV2``
and overrides its layers (``models/keras_models/mobilenet_v2.py``):

* every convolution, depthwise ones included, pads TF 'SAME' (the Keras
  application's own ``ZeroPadding2D`` + 'valid' before strided depthwise
  layers becomes a no-op + 'SAME'), or pads explicitly with
  ``use_explicit_padding``;
* ``min_depth`` raises every convolution's width to at least that, except the
  expansions (``block_k_expand``);
* the depth multiplier (alpha) also narrows the last 1x1 convolution
  (``Conv_1``, 1280 channels) when alpha < 1;
* with ``override_base_feature_extractor_hyperparams`` the batch norms and
  activations follow the config's ``conv_hyperparams``; otherwise Keras'
  batch norm (gamma and beta, epsilon 1e-3) and ReLU6.

Widths follow the Keras application: ``make_divisible(c * alpha, 8)``; a block
adds its input back (``block_k_add``) when its stride is 1 and its input width
equals the block's *nominal* output width (before ``min_depth``): with
``min_depth`` some narrow blocks lose their residual, as in TF.
"""
import collections

import chainer

from replicate.odapi.config import BatchNorm as BatchNormConfig
from replicate.odapi.layers import Activation, Add, BatchNorm, Conv2D

#: The inverted residual blocks 0..16 of MobileNetV2 (the paper's table 2):
#: (expansion t, nominal output channels c, stride s).
BLOCKS = ((1, 16, 1),
          (6, 24, 2), (6, 24, 1),
          (6, 32, 2), (6, 32, 1), (6, 32, 1),
          (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
          (6, 96, 1), (6, 96, 1), (6, 96, 1),
          (6, 160, 2), (6, 160, 1), (6, 160, 1),
          (6, 320, 1))
FIRST_CHANNELS = 32      # Conv1, 3x3 stride 2
LAST_CHANNELS = 1280     # Conv_1, 1x1
#: The two outputs SSD uses: the OD API's 'layer_15/expansion_output'
#: (stride 16) and 'layer_19' (stride 32).
TAPS = ('block_13_expand_relu', 'out_relu')
#: Keras' own batch norm when the config does not override the base.
KERAS_BATCH_NORM = BatchNormConfig(epsilon=1e-3, scale=True, center=True)
KERAS_ACTIVATION = 'RELU_6'

#: One convolution unit: conv -> batch norm -> activation (names None when absent).
Unit = collections.namedtuple('Unit', 'conv bn act in_channels out_channels ksize stride '
                                      'depthwise')
#: One inverted residual block: its units and the name of its Add (or None).
Block = collections.namedtuple('Block', 'units add')


def make_divisible(value, divisor=8):
    """The Keras application's channel rounding: nearest multiple of
    ``divisor``, at least ``divisor``, never more than 10% below ``value``."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _unit(name, bn, act, in_channels, out_channels, ksize=1, stride=1, depthwise=False):
    return Unit(name, bn, act, in_channels, out_channels, ksize, stride, depthwise)


def layout(alpha, min_depth):
    """The base network as a list of :class:`Block`, Keras names and widths.

    Args:
        alpha (float): the depth multiplier. min_depth (int): minimum width.

    Returns:
        list of Block: ``Conv1`` (a one-unit block), blocks 0..16, ``Conv_1``.
    """
    def floor(channels, name):
        return channels if name.endswith('expand') else max(channels, min_depth)

    first = floor(make_divisible(FIRST_CHANNELS * alpha), 'Conv1')
    blocks = [Block([_unit('Conv1', 'bn_Conv1', 'Conv1_relu', 3, first, 3, 2)], None)]
    channels = first
    for k, (expansion, nominal, stride) in enumerate(BLOCKS):
        prefix = 'block_{}_'.format(k) if k else 'expanded_conv_'
        units = []
        inner = channels
        if k:
            inner = expansion * channels
            units.append(_unit(prefix + 'expand', prefix + 'expand_BN', prefix + 'expand_relu',
                               channels, inner))
        units.append(_unit(prefix + 'depthwise', prefix + 'depthwise_BN',
                           prefix + 'depthwise_relu', inner, inner, 3, stride, True))
        pointwise = make_divisible(int(nominal * alpha))
        out = floor(pointwise, prefix + 'project')
        units.append(_unit(prefix + 'project', prefix + 'project_BN', None, inner, out))
        residual = stride == 1 and channels == pointwise
        blocks.append(Block(units, prefix + 'add' if residual else None))
        channels = out
    last = make_divisible(LAST_CHANNELS * alpha) if alpha < 1.0 else LAST_CHANNELS
    blocks.append(Block([_unit('Conv_1', 'Conv_1_bn', 'out_relu', channels,
                               floor(last, 'Conv_1'))], None))
    return blocks


class MobileNetV2Base(chainer.Chain):
    """The base network: one link per Keras layer, under its Keras name.

    Args:
        alpha (float), min_depth (int): see :func:`layout`.
        batch_norm (replicate.odapi.config.BatchNorm or None): None drops the
            batch norms (a config without one).
        activation (str): see :data:`replicate.odapi.layers.ACTIVATIONS`.
        padding (str): ``'same'`` or ``'explicit'``.

    Attributes:
        channels (tuple of int): widths of the two outputs (:data:`TAPS`).
    """

    def __init__(self, alpha=1.0, min_depth=16, batch_norm=KERAS_BATCH_NORM,
                 activation=KERAS_ACTIVATION, padding='same'):
        super().__init__()
        self.blocks = layout(alpha, min_depth)
        self.batch_norm = batch_norm
        with self.init_scope():
            for block in self.blocks:
                for unit in block.units:
                    self._add_unit(unit, batch_norm, activation, padding)
                if block.add:
                    setattr(self, block.add, Add())
        widths = {unit.act: unit.out_channels for block in self.blocks
                  for unit in block.units}
        self.channels = tuple(widths[name] for name in TAPS)

    def _add_unit(self, unit, batch_norm, activation, padding):
        setattr(self, unit.conv, Conv2D(unit.in_channels, unit.out_channels, unit.ksize,
                                        unit.stride, unit.depthwise, padding=padding))
        if batch_norm is not None:
            setattr(self, unit.bn, BatchNorm(unit.out_channels, batch_norm.epsilon,
                                             batch_norm.scale, batch_norm.center))
        if unit.act:
            setattr(self, unit.act, Activation(activation))

    def _run_unit(self, unit, h):
        h = self[unit.conv](h)
        if self.batch_norm is not None:
            h = self[unit.bn](h)
        return self[unit.act](h) if unit.act else h

    def forward(self, x):
        """float32 (B, 3, H, W) in [-1, 1] -> the two :data:`TAPS` outputs,
        (B, C_0, H/16, W/16) and (B, C_1, H/32, W/32) (ceil divisions)."""
        taps = {}
        h = x
        for block in self.blocks:
            skip = h
            for unit in block.units:
                h = self._run_unit(unit, h)
                if unit.act in TAPS:
                    taps[unit.act] = h
            if block.add:
                h = self[block.add](skip, h)
        return tuple(taps[name] for name in TAPS)
