"""MobileNetV2 as TF1's slim builds it (``research/slim/nets/mobilenet``), the
base of the OD API's TF1 ``ssd_mobilenet_v2`` feature extractor.

Layer names are slim's scopes under ``FeatureExtractor/MobilenetV2/``:
``Conv`` (3x3 stride 2), blocks ``expanded_conv``, ``expanded_conv_1`` ...
``expanded_conv_16`` (units ``expand``, ``depthwise``, ``project``; a residual
``add``), ``Conv_1`` (1x1). One scope is one :class:`SlimConv` link whose
children are ``conv`` (weights, ``biases``), ``BatchNorm`` and ``act``, so a
TF constant ``<scope>/weights`` is our ``<scope>/conv/W`` and
``<scope>/BatchNorm/gamma`` our ``<scope>/BatchNorm/gamma``.

Widths follow slim, which differs from the Keras application
(:mod:`replicate.odapi.mobilenet_v2`):

* every layer's width, ``Conv_1``'s 1280 included, is
  ``make_divisible(c * depth_multiplier, 8, min_value=min_depth)``
  (:func:`slim_depth`: the 10% rule, and never below ``min_depth``);
* an expansion is ``make_divisible(6 * input width, 8)`` of the *actual*
  input width; block 0 (``expanded_conv``) has none (factor 1);
* a block adds its input back when its stride is 1 and its actual output
  width equals its input width.

SSD taps ``layer_15/expansion_output`` (the ``expand`` output of
``expanded_conv_13``, stride 16) and ``layer_19`` (``Conv_1``, stride 32).
Batch norms and activations: MobileNetV2's own (batch norm with gamma and beta,
epsilon 1e-3; ReLU6, none after ``project``), or the config's batch norm with
``override_base_feature_extractor_hyperparams``.
"""
import collections

import chainer

from replicate.odapi.layers import Activation, Add, BatchNorm, Conv2D
from replicate.odapi.mobilenet_v2 import BLOCKS, FIRST_CHANNELS, LAST_CHANNELS, make_divisible

#: The scope the slim extractor's variables live in.
SCOPE = 'FeatureExtractor/MobilenetV2'
#: (block, unit) of the two taps: layer_15/expansion_output and layer_19.
TAPS = (('expanded_conv_13', 'expand'), ('Conv_1', None))

#: One slim layer: scope name, widths, kernel, stride, depthwise, activation or None.
Unit = collections.namedtuple('Unit', 'name in_channels out_channels ksize stride depthwise act')
#: A block: its scope (None for Conv / Conv_1), its units, whether it adds its input.
Block = collections.namedtuple('Block', 'name units residual')


def slim_depth(channels, multiplier, min_depth):
    """slim's ``depth_multiplier``: ``make_divisible(c * m, 8)`` but at least ``min_depth``."""
    value = channels * multiplier
    rounded = max(min_depth, int(value + 4) // 8 * 8)
    if rounded < 0.9 * value:
        rounded += 8
    return rounded


def block_name(k):
    return 'expanded_conv_{}'.format(k) if k else 'expanded_conv'


def layout(multiplier, min_depth, activation='RELU_6'):
    """The base as a list of :class:`Block`: ``Conv``, blocks 0..16, ``Conv_1``."""
    first = slim_depth(FIRST_CHANNELS, multiplier, min_depth)
    blocks = [Block(None, [Unit('Conv', 3, first, 3, 2, False, activation)], False)]
    channels = first
    for k, (expansion, nominal, stride) in enumerate(BLOCKS):
        units, inner = [], channels
        if k:
            inner = make_divisible(expansion * channels, 8)
            units.append(Unit('expand', channels, inner, 1, 1, False, activation))
        units.append(Unit('depthwise', inner, inner, 3, stride, True, activation))
        out = slim_depth(nominal, multiplier, min_depth)
        units.append(Unit('project', inner, out, 1, 1, False, None))
        blocks.append(Block(block_name(k), units, stride == 1 and out == channels))
        channels = out
    last = slim_depth(LAST_CHANNELS, multiplier, min_depth)
    blocks.append(Block(None, [Unit('Conv_1', channels, last, 1, 1, False, activation)], False))
    return blocks


class SlimConv(chainer.Chain):
    """One slim ``conv2d`` (or ``separable_conv2d`` without pointwise part):
    convolution, then batch norm and activation when present.

    Args:
        in_channels, out_channels (int), ksize, stride (int), depthwise (bool):
            see :class:`replicate.odapi.layers.Conv2D`.
        batch_norm (replicate.odapi.config.BatchNorm or None).
        activation (str or None): see :data:`replicate.odapi.layers.ACTIVATIONS`.
        bias (bool): the convolution has ``biases`` (slim: when no batch norm follows).
        padding (str): ``'same'`` or ``'explicit'`` (``use_explicit_padding``).
    """

    def __init__(self, in_channels, out_channels, ksize=1, stride=1, depthwise=False,
                 batch_norm=None, activation=None, bias=False, padding='same'):
        super().__init__()
        self.has_bn, self.has_act = batch_norm is not None, activation is not None
        self.ksize, self.stride, self.depthwise = ksize, stride, depthwise
        with self.init_scope():
            self.conv = Conv2D(in_channels, out_channels, ksize, stride, depthwise, bias=bias,
                               padding=padding)
            if self.has_bn:
                self.BatchNorm = BatchNorm(out_channels, batch_norm.epsilon, batch_norm.scale,
                                           batch_norm.center)
            if self.has_act:
                self.act = Activation(activation)

    def forward(self, x):
        """float32 (B, C_in, H, W) -> (B, C_out, ceil(H / s), ceil(W / s))."""
        h = self.conv(x)
        if self.has_bn:
            h = self.BatchNorm(h)
        return self.act(h) if self.has_act else h


class SlimBlock(chainer.Chain):
    """An inverted residual block: its units, then ``add`` of the input when residual."""

    def __init__(self, block, batch_norm, padding):
        super().__init__()
        self.unit_names = [unit.name for unit in block.units]
        self.residual = block.residual
        with self.init_scope():
            for unit in block.units:
                setattr(self, unit.name, make_unit(unit, batch_norm, padding))
            if block.residual:
                self.add = Add()

    def forward(self, x):
        """(B, C, H, W) -> (B, C_out, H / s, W / s); also returns the
        expansion output (the ``expand`` unit's, else the input)."""
        h, expansion = x, x
        for name in self.unit_names:
            h = self[name](h)
            if name == 'expand':
                expansion = h
        return (self.add(x, h) if self.residual else h), expansion


def make_unit(unit, batch_norm, padding):
    return SlimConv(unit.in_channels, unit.out_channels, unit.ksize, unit.stride,
                    unit.depthwise, batch_norm, unit.act, bias=batch_norm is None,
                    padding=padding)


class SlimMobileNetV2Base(chainer.Chain):
    """The base network, one link per slim scope.

    Args:
        multiplier (float), min_depth (int): see :func:`layout`.
        batch_norm (replicate.odapi.config.BatchNorm or None): of every layer.
        activation (str): of every layer but ``project``.
        padding (str): ``'same'`` or ``'explicit'``.

    Attributes:
        blocks (list of Block). channels (tuple of int): widths of the two taps.
    """

    def __init__(self, multiplier=1.0, min_depth=16, batch_norm=None, activation='RELU_6',
                 padding='same'):
        super().__init__()
        self.blocks = layout(multiplier, min_depth, activation)
        with self.init_scope():
            for block in self.blocks:
                if block.name is None:
                    setattr(self, block.units[0].name, make_unit(block.units[0], batch_norm,
                                                                 padding))
                else:
                    setattr(self, block.name, SlimBlock(block, batch_norm, padding))
        widths = {(block.name or unit.name, unit.name if block.name else None): unit.out_channels
                  for block in self.blocks for unit in block.units}
        self.channels = tuple(widths[tap] for tap in TAPS)

    def forward(self, x):
        """float32 (B, 3, H, W) in [-1, 1] -> the two taps, (B, C_0, H/16, W/16)
        and (B, C_1, H/32, W/32) (ceil divisions)."""
        h, tap = x, None
        for block in self.blocks:
            if block.name is None:
                h = self[block.units[0].name](h)
                continue
            h, expansion = self[block.name](h)
            if block.name == TAPS[0][0]:
                tap = expansion
        return tap, h
