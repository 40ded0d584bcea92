"""The Keras layers an OD API SSD-MobileNetV2 is made of, as Chainer links.

One Keras layer is one link here, named like the Keras layer (``Conv1``,
``bn_Conv1``, ``Conv1_relu``, ``block_2_add``), so the weights load by name
and a recorded output of ours lines up with the TF tensor of the same layer.
Arrays are NCHW (Chainer's layout; TF's is NHWC).

TF pads ``'SAME'`` convolutions asymmetrically when the total padding is odd
(one more row/column at the bottom/right): e.g. a 3x3 stride-2 convolution of
a 300-pixel side pads (0, 1), of a 75-pixel side (1, 1). Chainer pads
symmetrically, so an odd total is padded explicitly first
(:func:`same_padding`). The OD API's ``use_explicit_padding`` pads
``(k - 1) // 2`` before and the rest after, then convolves ``'VALID'``
(:func:`explicit_padding`).
"""
import chainer
import chainer.functions as F
import numpy as np
from chainer import initializers


def same_padding(size, ksize, stride):
    """TF 'SAME' padding of one spatial side: ``(before, after)``.

    The output has ``ceil(size / stride)`` cells; the total padding is what
    that needs, the odd pixel going after.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + ksize - size, 0)
    return total // 2, total - total // 2


def explicit_padding(ksize):
    """The OD API's ``ops.fixed_padding``: ``(before, after)`` for any size."""
    total = ksize - 1
    return total // 2, total - total // 2


def output_size(size, ksize, stride):
    """Output side of a 'SAME' (or explicitly padded) convolution: ceil(size / stride)."""
    return -(-size // stride)


class Conv2D(chainer.Link):
    """A TF ``Conv2D`` or ``DepthwiseConv2D`` (depth multiplier 1).

    Args:
        in_channels, out_channels (int): for a depthwise layer both are the
            channel count.
        ksize (int), stride (int): square kernel and stride.
        depthwise (bool): one kxk filter per channel.
        bias (bool): add a bias ``b`` (out_channels,).
        padding (str): ``'same'`` (TF SAME) or ``'explicit'`` (see module doc).

    Parameters: ``W`` float32 (out_channels, in_channels, k, k), or
    (channels, 1, k, k) for a depthwise layer (a grouped convolution with one
    group per channel); ``b`` (out_channels,) if ``bias``. LeCun-normal
    initial weights, zero bias: the port's weights normally come from an export.
    """

    def __init__(self, in_channels, out_channels, ksize, stride=1, depthwise=False,
                 bias=False, padding='same'):
        super().__init__()
        if depthwise and in_channels != out_channels:
            raise ValueError('a depthwise layer keeps its channels: {} -> {}'.format(
                in_channels, out_channels))
        if padding not in ('same', 'explicit'):
            raise ValueError("padding must be 'same' or 'explicit', got {!r}".format(padding))
        self.ksize, self.stride, self.padding = ksize, stride, padding
        self.groups = in_channels if depthwise else 1
        shape = (out_channels, in_channels // self.groups, ksize, ksize)
        with self.init_scope():
            self.W = chainer.Parameter(initializers.LeCunNormal(), shape)
            self.b = chainer.Parameter(initializers.Zero(), out_channels) if bias else None

    def _pads(self, x):
        """((top, bottom), (left, right)) for an NCHW input."""
        if self.padding == 'explicit':
            return (explicit_padding(self.ksize),) * 2
        return tuple(same_padding(size, self.ksize, self.stride) for size in x.shape[2:])

    def forward(self, x):
        """float32 (B, C_in, H, W) -> (B, C_out, ceil(H / s), ceil(W / s))."""
        pads = self._pads(x)
        if all(before == after for before, after in pads):
            pad = tuple(before for before, _ in pads)
        else:
            # asymmetric: pad explicitly (zeros), then convolve without padding
            x = F.pad(x, ((0, 0), (0, 0)) + pads, mode='constant')
            pad = 0
        return F.convolution_2d(x, self.W, self.b, stride=self.stride, pad=pad,
                                groups=self.groups)


class BatchNorm(chainer.Link):
    """A Keras ``BatchNormalization`` at inference: ``gamma * (x - avg_mean) /
    sqrt(avg_var + eps) + beta`` per channel.

    The moving statistics are always used, also with ``chainer.config.train``
    (the OD API's ``freeze_batchnorm: true``): fine-tuning changes ``gamma``
    and ``beta`` (when not frozen), never the statistics.

    Args:
        size (int): channels. eps (float): the config's epsilon.
        scale (bool): learn ``gamma`` (else 1). center (bool): learn ``beta`` (else 0).

    Parameters: ``gamma``, ``beta`` (size,) when present; persistent values
    ``avg_mean``, ``avg_var`` (size,), float32.
    """

    def __init__(self, size, eps=1e-3, scale=True, center=True):
        super().__init__()
        self.eps = eps
        with self.init_scope():
            self.gamma = chainer.Parameter(initializers.One(), size) if scale else None
            self.beta = chainer.Parameter(initializers.Zero(), size) if center else None
        self.add_persistent('avg_mean', np.zeros(size, dtype=np.float32))
        self.add_persistent('avg_var', np.ones(size, dtype=np.float32))

    def forward(self, x):
        xp = self.xp
        size = len(self.avg_mean)
        gamma = self.gamma if self.gamma is not None else xp.ones(size, dtype=x.dtype)
        beta = self.beta if self.beta is not None else xp.zeros(size, dtype=x.dtype)
        return F.fixed_batch_normalization(x, gamma, beta, self.avg_mean, self.avg_var,
                                           eps=self.eps)


def _swish(x):
    return x * F.sigmoid(x)


#: ``conv_hyperparams.activation`` -> function (TF: identity, relu, relu6, swish).
ACTIVATIONS = {
    'NONE': F.identity,
    'RELU': F.relu,
    'RELU_6': lambda x: F.clipped_relu(x, 6.0),
    'SWISH': _swish,
}


class Activation(chainer.Link):
    """An activation layer (no parameters): one of :data:`ACTIVATIONS`."""

    def __init__(self, kind):
        super().__init__()
        if kind not in ACTIVATIONS:
            raise ValueError('unknown activation {!r}; known: {}'.format(
                kind, ', '.join(sorted(ACTIVATIONS))))
        self.kind = kind

    def forward(self, x):
        return ACTIVATIONS[self.kind](x)


class Add(chainer.Link):
    """The residual ``Add`` of an inverted residual block (no parameters)."""

    def forward(self, a, b):
        return a + b
