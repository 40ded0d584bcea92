"""Caffe layers that hold blobs, as Chainer links built from replicate's parts.

Each class is built from a :class:`~replicate.caffe.prototxt.LayerSpec` and
the shapes of its bottoms (shape inference happens at build time, so a
prototxt whose blobs or shapes do not fit is refused before any weights are
read), states the shapes of the blobs it expects (:attr:`blob_shapes`, in
Caffe's order) and takes them with :meth:`load`. ``op(xs)`` maps the list of
bottom Variables to the list of top Variables. Shapes are NCHW.

- Convolution: :class:`replicate.ssd.channels_last.Convolution2D` (Chainer's
  convolution, faster on the CPU, same results); groups, dilation, bias_term.
- BatchNorm: Caffe's inference form ``(x - m s) / sqrt(v s + eps)`` where
  ``s = 1 / blobs[2]`` (the moving-average scale factor Caffe accumulates;
  0 when that blob is 0, as Caffe does), blobs ``mean``, ``variance``,
  ``factor``.
- Scale: ``x * scale[c] (+ bias[c])`` over the channel axis.
- Normalize: :class:`CaffeNormalize`, replicate's
  :class:`~replicate.ssd.normalize.Normalize` link (L2 over channels at each
  location, learned scale; ``channel_shared`` gives a single scale) with
  Caffe's norm ``sqrt(sum x^2 + eps)``: replicate's (ChainerCV's)
  ``sqrt(sum x^2) + eps`` differs wherever the norm is small (at a norm of
  1e-6, eps 1e-10 inside the root changes it tenfold), which ReLU outputs
  with few channels reach.
"""
import chainer
import chainer.functions as F
import numpy as np

from replicate.caffe.errors import CaffeError, CaffeWeightsError
from replicate.ssd.channels_last import Convolution2D
from replicate.ssd.normalize import Normalize


def single_input(spec, in_shapes, ndim=4):
    """The one bottom's shape; refuses other counts or ranks."""
    if len(in_shapes) != 1 or len(spec.tops) != 1:
        raise spec.refuse('needs one bottom and one top, has {} and {}'.format(
            len(in_shapes), len(spec.tops)))
    if ndim is not None and len(in_shapes[0]) != ndim:
        raise spec.refuse('needs a {}-D bottom, {!r} is {}'.format(
            ndim, spec.bottoms[0], in_shapes[0]))
    return in_shapes[0]


def pair(params, name, name_h, name_w, default=None):
    """(h, w) from Caffe's repeated ``name`` (1 or 2 values) or ``name_h``/``name_w``."""
    values = params.many(name, 'int')
    given_hw = params.has(name_h) or params.has(name_w)
    if values and given_hw:
        raise params.error(name, 'give {} or {}/{}, not both'.format(name, name_h, name_w))
    if given_hw:
        if not (params.has(name_h) and params.has(name_w)):
            raise params.error(name_h, 'give both {} and {}'.format(name_h, name_w))
        return params.get(name_h, 'int'), params.get(name_w, 'int')
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return tuple(values)
    if values or default is None:
        raise params.error(name, 'needs 1 or 2 values, got {}'.format(len(values)))
    return default


def same_shape(got, expected):
    """Caffe's blob shape check: equal once leading 1s are dropped (a legacy
    (1, 1, 1, N) bias is an (N,) one, a (1,) factor a scalar)."""
    def strip(shape):
        shape = tuple(shape)
        while shape and shape[0] == 1:
            shape = shape[1:]
        return shape
    return strip(got) == strip(expected)


#: Most parameters (blob elements) of one layer, checked before its link is
#: allocated (VGG16 SSD512's largest layer, fc6 as a convolution, has 4.7 M).
MAX_LAYER_ELEMENTS = 1 << 28


class BlobLayer:
    """What the layers with blobs share: the expected shapes and the check."""
    blob_shapes = ()
    link = None

    def check_size(self, spec):
        """Refuse a layer whose blobs would exceed :data:`MAX_LAYER_ELEMENTS`
        (before anything is allocated for it)."""
        total = sum(int(np.prod(shape, dtype=object)) for shape in self.blob_shapes)
        if total > MAX_LAYER_ELEMENTS:
            raise spec.refuse('its blobs would hold {} values, more than the {} a layer may '
                              'have here'.format(total, MAX_LAYER_ELEMENTS))

    def check_blobs(self, spec, blobs, path):
        """Raise CaffeWeightsError unless ``blobs`` has the expected count and shapes."""
        if len(blobs) != len(self.blob_shapes):
            raise CaffeWeightsError('{}: {} holds {} blob(s) {} for this layer, the prototxt '
                                    'needs {} {}'.format(
                                        spec.where, path, len(blobs),
                                        [b.shape for b in blobs], len(self.blob_shapes),
                                        list(self.blob_shapes)))
        for i, (blob, shape) in enumerate(zip(blobs, self.blob_shapes, strict=True)):
            if not same_shape(blob.shape, shape):
                raise CaffeWeightsError('{}: blob {} in {} has shape {}, the prototxt needs {}'
                                        .format(spec.where, i, path, blob.shape, shape))
            if not np.isfinite(blob).all():
                raise CaffeWeightsError('{}: blob {} in {} holds NaN or Inf'.format(
                    spec.where, i, path))


class Convolution(BlobLayer):
    KNOWN = ('num_output', 'bias_term', 'pad', 'kernel_size', 'stride', 'dilation', 'pad_h',
             'pad_w', 'kernel_h', 'kernel_w', 'stride_h', 'stride_w', 'group', 'weight_filler',
             'bias_filler', 'engine', 'axis', 'force_nd_im2col')

    def __init__(self, spec, in_shapes):
        n, c, h, w = single_input(spec, in_shapes)
        p = spec.params(self.KNOWN)
        out = p.get('num_output', 'int', 0)
        if out <= 0:
            raise spec.refuse('needs num_output > 0')
        if p.get('axis', 'int', 1) != 1:
            raise spec.refuse('convolution over axis {} is not supported (only 1)'.format(
                p.get('axis', 'int')))
        kernel = pair(p, 'kernel_size', 'kernel_h', 'kernel_w')
        stride = pair(p, 'stride', 'stride_h', 'stride_w', (1, 1))
        pad = pair(p, 'pad', 'pad_h', 'pad_w', (0, 0))
        dilation = p.many('dilation', 'int') or [1]
        dilation = tuple(dilation * 2 if len(dilation) == 1 else dilation)
        groups = p.get('group', 'int', 1)
        if min(kernel + stride + dilation) < 1 or min(pad) < 0 or len(dilation) != 2:
            raise spec.refuse('kernel {}, stride {}, dilation {}, pad {} are not valid'.format(
                kernel, stride, dilation, pad))
        if groups < 1 or c % groups or out % groups:
            raise spec.refuse('group {} does not divide {} input and {} output channels'.format(
                groups, c, out))
        bias = p.get('bias_term', 'bool', True)
        size = [(s + 2 * q - (d * (k - 1) + 1)) // t + 1
                for s, q, d, k, t in zip((h, w), pad, dilation, kernel, stride, strict=True)]
        if min(size) < 1:
            raise spec.refuse('its {}x{} input is smaller than its kernel'.format(h, w))
        self.out_shapes = [(n, out, size[0], size[1])]
        self.blob_shapes = ((out, c // groups) + kernel,) + (((out,),) if bias else ())
        self.check_size(spec)
        self.link = Convolution2D(c, out, kernel, stride, pad, nobias=not bias,
                                  dilate=dilation, groups=groups)

    def load(self, blobs):
        self.link.W.array[...] = blobs[0].reshape(self.link.W.shape)
        if len(blobs) > 1:
            self.link.b.array[...] = blobs[1].reshape(self.link.b.shape)

    def __call__(self, xs):
        return [self.link(xs[0])]


class CaffeBatchNorm(chainer.Link):
    """Inference batch normalization as Caffe stores it.

    Persistents (Caffe's three blobs): ``mean`` (C,), ``variance`` (C,),
    ``factor`` (1,), the moving-average scale factor; the statistics are
    ``mean / factor`` and ``variance / factor``.
    """

    def __init__(self, channels, eps):
        super().__init__()
        self.eps = np.float32(eps)
        self.add_persistent('mean', np.zeros(channels, np.float32))
        self.add_persistent('variance', np.ones(channels, np.float32))
        self.add_persistent('factor', np.ones(1, np.float32))

    def statistics(self):
        """``(mean, std)`` float32 (C,), as Caffe's forward computes them."""
        factor = self.factor[0]
        scale = np.float32(0) if factor == 0 else np.float32(1) / factor
        mean = self.mean * scale
        std = np.sqrt(self.variance * scale + self.eps)
        return mean, std

    def forward(self, x):
        """float32 (B, C, H, W) -> (B, C, H, W)."""
        mean, std = (self.xp.asarray(a).reshape(1, -1, 1, 1) for a in self.statistics())
        return (x - mean) / std


class BatchNorm(BlobLayer):
    KNOWN = ('use_global_stats', 'moving_average_fraction', 'eps')

    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes, ndim=None)
        if len(shape) < 2:
            raise spec.refuse('needs a bottom with a channel axis')
        p = spec.params(self.KNOWN)
        if p.get('use_global_stats', 'bool', True) is False:
            raise spec.refuse('use_global_stats: false (batch statistics at test time) is not '
                              'supported')
        eps = p.get('eps', 'float', 1e-5)
        self.out_shapes = [shape]
        self.blob_shapes = ((shape[1],), (shape[1],), (1,))
        self.check_size(spec)
        self.link = CaffeBatchNorm(shape[1], eps)

    def load(self, blobs):
        for key, blob in zip(('mean', 'variance', 'factor'), blobs, strict=True):
            getattr(self.link, key)[...] = blob.reshape(-1)

    def __call__(self, xs):
        return [self.link(xs[0])]


class CaffeScale(chainer.Link):
    """``y = x * W[c] (+ b[c])``; parameters ``W`` (C,) and ``b`` (C,) or None."""

    def __init__(self, channels, bias):
        super().__init__()
        with self.init_scope():
            self.W = chainer.Parameter(np.ones(channels, np.float32))
            self.b = chainer.Parameter(np.zeros(channels, np.float32)) if bias else None

    def forward(self, x):
        # (C,) -> (1, C, 1, ...) broadcast over the batch and the spatial axes
        shape = (1, -1) + (1,) * (x.ndim - 2)
        y = x * F.reshape(self.W, shape)
        return y if self.b is None else y + F.reshape(self.b, shape)


class Scale(BlobLayer):
    KNOWN = ('axis', 'num_axes', 'filler', 'bias_term', 'bias_filler')

    def __init__(self, spec, in_shapes):
        if len(in_shapes) != 1:
            raise spec.refuse('the two-bottom form (scale from a blob) is not supported')
        shape = single_input(spec, in_shapes, ndim=None)
        p = spec.params(self.KNOWN)
        if p.get('axis', 'int', 1) != 1 or p.get('num_axes', 'int', 1) != 1 or len(shape) < 2:
            raise spec.refuse('only a per-channel scale (axis 1, num_axes 1) is supported')
        bias = p.get('bias_term', 'bool', False)
        self.out_shapes = [shape]
        self.blob_shapes = ((shape[1],),) + (((shape[1],),) if bias else ())
        self.check_size(spec)
        self.link = CaffeScale(shape[1], bias)

    def load(self, blobs):
        self.link.W.array[...] = blobs[0].reshape(-1)
        if self.link.b is not None:
            self.link.b.array[...] = blobs[1].reshape(-1)

    def __call__(self, xs):
        return [self.link(xs[0])]


class CaffeNormalize(Normalize):
    """:class:`replicate.ssd.normalize.Normalize` (same parameter ``scale``) with
    Caffe's ``x / sqrt(sum_c x^2 + eps) * scale[c]``."""

    def forward(self, x):
        """x: float32 (B, C, H, W) -> float32 (B, C, H, W)."""
        # (B, C, H, W) -> (B, 1, H, W) norms, eps inside the root as Caffe adds it
        norm = F.sqrt(F.sum(x * x, axis=1, keepdims=True) + self.xp.float32(self.eps))
        y = x / F.broadcast_to(norm, x.shape)
        # (C,) -> (1, C, 1, 1) -> (B, C, H, W)
        return y * F.broadcast_to(F.reshape(self.scale, (1, -1, 1, 1)), x.shape)


class NormalizeLayer(BlobLayer):
    KNOWN = ('across_spatial', 'scale_filler', 'channel_shared', 'eps')

    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes)
        p = spec.params(self.KNOWN)
        if p.get('across_spatial', 'bool', True):
            raise spec.refuse('across_spatial: true (one norm over the whole map) is not '
                              "supported; SSD's is across_spatial: false")
        shared = p.get('channel_shared', 'bool', True)
        eps = p.get('eps', 'float', 1e-10)
        self.out_shapes = [shape]
        self.blob_shapes = ((),) if shared else ((shape[1],),)
        self.check_size(spec)
        self.link = CaffeNormalize(1 if shared else shape[1], initial=1, eps=eps)

    def load(self, blobs):
        self.link.scale.array[...] = blobs[0].reshape(-1)

    def __call__(self, xs):
        return [self.link(xs[0])]


#: type -> class, the layers with blobs.
BLOB_LAYERS = {'Convolution': Convolution, 'BatchNorm': BatchNorm, 'Scale': Scale,
               'Normalize': NormalizeLayer}


def refuse_unknown(spec):
    raise CaffeError('{}: layer type {!r} is not supported'.format(spec.where, spec.type))
