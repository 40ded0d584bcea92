"""Caffe layers without blobs: shape inference at build time, Chainer
functions at run time (same interface as :mod:`replicate.caffe.layers`).

- ReLU (``negative_slope`` for a leaky one); Softmax over ``axis``;
- Pooling MAX / AVE with Caffe's output size: ``ceil((H + 2 pad - k) /
  stride) + 1``, one less when the last window would start in the padding
  (``round_mode: FLOOR`` of newer Caffe: floor). MAX is
  :func:`replicate.ssd.channels_last.max_pooling_2d` (Chainer's, -inf outside
  the image); AVE divides each window's sum by the part of it inside the
  padded image (``[-pad, H + pad)``), Caffe's divisor, not ``k * k``;
  ``global_pooling`` pools the whole map;
- Eltwise SUM (with ``coeff``); Concat; Permute; Flatten; Reshape (Caffe's
  ``0`` = copy, ``-1`` = infer, ``axis``, ``num_axes``); Split;
- PriorBox: the constant blob of :func:`replicate.caffe.priorbox.prior_boxes`,
  computed once per input size.
"""
import math

import chainer
import chainer.functions as F
import numpy as np

from replicate.caffe import priorbox
from replicate.caffe.layers import pair, single_input
from replicate.ssd.channels_last import max_pooling_2d


def canonical_axis(spec, axis, ndim, what='axis'):
    if not -ndim <= axis < ndim:
        raise spec.refuse('{} {} is out of range for a {}-D bottom'.format(what, axis, ndim))
    return axis % ndim


class Op:
    """A layer without blobs."""
    blob_shapes = ()
    link = None


class ReLU(Op):
    def __init__(self, spec, in_shapes):
        self.out_shapes = [single_input(spec, in_shapes, ndim=None)]
        self.slope = spec.params(('negative_slope', 'engine')).get('negative_slope', 'float', 0.0)

    def __call__(self, xs):
        return [F.relu(xs[0]) if self.slope == 0 else F.leaky_relu(xs[0], self.slope)]


class Softmax(Op):
    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes, ndim=None)
        self.axis = canonical_axis(spec, spec.params(('engine', 'axis')).get('axis', 'int', 1),
                                   len(shape))
        self.out_shapes = [shape]

    def __call__(self, xs):
        return [F.softmax(xs[0], axis=self.axis)]


def pooled_size(size, kernel, stride, pad, ceil_mode):
    """Caffe's pooled output side (see the module doc)."""
    if ceil_mode:
        out = int(math.ceil((size + 2 * pad - kernel) / stride)) + 1
        if pad and (out - 1) * stride >= size + pad:
            out -= 1
        return out
    return (size + 2 * pad - kernel) // stride + 1


class Pooling(Op):
    KNOWN = ('pool', 'pad', 'pad_h', 'pad_w', 'kernel_size', 'kernel_h', 'kernel_w', 'stride',
             'stride_h', 'stride_w', 'engine', 'global_pooling', 'round_mode')

    def __init__(self, spec, in_shapes):
        n, c, h, w = single_input(spec, in_shapes)
        p = spec.params(self.KNOWN)
        self.method = p.get('pool', 'enum', 'MAX')
        if self.method not in ('MAX', 'AVE'):
            raise spec.refuse('pool: {} is not supported (MAX, AVE)'.format(self.method))
        if p.get('global_pooling', 'bool', False):
            if p.has('kernel_size') or p.has('kernel_h'):
                raise spec.refuse('global_pooling with a kernel size')
            kernel, stride, pad = (h, w), (1, 1), (0, 0)
        else:
            for name in ('kernel_size', 'stride', 'pad'):
                if len(p.many(name, 'int')) > 1:
                    raise p.error(name, 'Pooling takes one value (or {0}_h, {0}_w)'.format(
                        name.replace('_size', '')))
            kernel = pair(p, 'kernel_size', 'kernel_h', 'kernel_w')
            stride = pair(p, 'stride', 'stride_h', 'stride_w', (1, 1))
            pad = pair(p, 'pad', 'pad_h', 'pad_w', (0, 0))
        mode = p.get('round_mode', 'enum', 'CEIL')
        if mode not in ('CEIL', 'FLOOR'):
            raise spec.refuse('round_mode: {} is not supported (CEIL, FLOOR)'.format(mode))
        if min(kernel + stride) < 1 or min(pad) < 0 or pad[0] >= kernel[0] or \
                pad[1] >= kernel[1]:
            raise spec.refuse('kernel {}, stride {}, pad {} are not valid (pad < kernel)'.format(
                kernel, stride, pad))
        self.kernel, self.stride, self.pad, self.ceil = kernel, stride, pad, mode == 'CEIL'
        self.size = tuple(pooled_size(s, k, t, q, self.ceil)
                          for s, k, t, q in zip((h, w), kernel, stride, pad, strict=True))
        if min(self.size) < 1:
            raise spec.refuse('its {}x{} input is smaller than its kernel {}'.format(
                h, w, kernel))
        self.out_shapes = [(n, c) + self.size]
        if self.method == 'AVE':
            self.divisor = self._divisor((h, w))

    def _overhang(self, in_hw):
        """Rows/columns past ``in + pad`` that the last windows reach."""
        return tuple(max(0, (o - 1) * t + k - s - q) for o, t, k, s, q in zip(
            self.size, self.stride, self.kernel, in_hw, self.pad, strict=True))

    def _divisor(self, in_hw):
        """float32 (oh, ow): the part of each window inside [-pad, H + pad)."""
        sides = []
        for o, t, k, s, q in zip(self.size, self.stride, self.kernel, in_hw, self.pad,
                                 strict=True):
            start = np.arange(o) * t - q
            sides.append(np.minimum(start + k, s + q) - start)
        return np.outer(*sides).astype(np.float32)

    def __call__(self, xs):
        x = xs[0]
        if self.method == 'MAX':
            y = max_pooling_2d(x, self.kernel, self.stride, self.pad, cover_all=self.ceil)
            # cover_all gives ceil's size; Caffe drops a last window starting in the padding
            return [y[:, :, :self.size[0], :self.size[1]]]
        (ph, pw), (eh, ew) = self.pad, self._overhang(x.shape[2:])
        padded = F.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), 'constant')
        # window sums: the mean over k*k zero-padded cells, times k*k
        area = np.float32(self.kernel[0] * self.kernel[1])
        sums = F.average_pooling_2d(padded, self.kernel, self.stride, 0) * area
        sums = sums[:, :, :self.size[0], :self.size[1]]
        return [sums / x.xp.asarray(self.divisor)]


class Eltwise(Op):
    def __init__(self, spec, in_shapes):
        p = spec.params(('operation', 'coeff', 'stable_prod_grad'))
        operation = p.get('operation', 'enum', 'SUM')
        if operation != 'SUM':
            raise spec.refuse('operation: {} is not supported (SUM)'.format(operation))
        if len(in_shapes) < 2 or len(set(in_shapes)) != 1 or len(spec.tops) != 1:
            raise spec.refuse('needs two or more bottoms of one shape, has {}'.format(in_shapes))
        coeff = p.many('coeff', 'float')
        if coeff and len(coeff) != len(in_shapes):
            raise spec.refuse('{} coeff for {} bottoms'.format(len(coeff), len(in_shapes)))
        self.coeff = [np.float32(c) for c in coeff] or None
        self.out_shapes = [in_shapes[0]]

    def __call__(self, xs):
        terms = xs if self.coeff is None else [x * c for x, c in zip(xs, self.coeff,
                                                                     strict=True)]
        y = terms[0]
        for term in terms[1:]:  # in bottom order, as Caffe accumulates
            y = y + term
        return [y]


class Concat(Op):
    def __init__(self, spec, in_shapes):
        p = spec.params(('axis', 'concat_dim'))
        if not in_shapes or len(spec.tops) != 1:
            raise spec.refuse('needs bottoms and one top')
        ndim = len(in_shapes[0])
        axis = p.get('axis', 'int') if p.has('axis') else p.get('concat_dim', 'int', 1)
        self.axis = canonical_axis(spec, axis, ndim)
        rest = {s[:self.axis] + s[self.axis + 1:] for s in in_shapes}
        if len(rest) != 1 or any(len(s) != ndim for s in in_shapes):
            raise spec.refuse('bottoms {} differ outside axis {}'.format(in_shapes, self.axis))
        shape = list(in_shapes[0])
        shape[self.axis] = sum(s[self.axis] for s in in_shapes)
        self.out_shapes = [tuple(shape)]

    def __call__(self, xs):
        return [F.concat(xs, axis=self.axis) if len(xs) > 1 else xs[0]]


class Permute(Op):
    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes, ndim=None)
        order = spec.params(('order',)).many('order', 'int')
        if any(not 0 <= a < len(shape) for a in order) or len(set(order)) != len(order):
            raise spec.refuse('order {} is not a permutation of the axes of {}'.format(
                order, shape))
        # Caffe appends the axes not named, in increasing order
        self.order = tuple(order) + tuple(a for a in range(len(shape)) if a not in order)
        self.out_shapes = [tuple(shape[a] for a in self.order)]

    def __call__(self, xs):
        return [F.transpose(xs[0], self.order)]


class Flatten(Op):
    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes, ndim=None)
        p = spec.params(('axis', 'end_axis'))
        self.start = canonical_axis(spec, p.get('axis', 'int', 1), len(shape))
        self.end = canonical_axis(spec, p.get('end_axis', 'int', -1), len(shape), 'end_axis')
        if self.end < self.start:
            raise spec.refuse('end_axis {} before axis {}'.format(self.end, self.start))
        self.out_shapes = [self.shape_of(shape)]

    def shape_of(self, shape):
        """The top's shape for a bottom of ``shape``."""
        return tuple(shape[:self.start]) + (int(np.prod(shape[self.start:self.end + 1])),) + \
            tuple(shape[self.end + 1:])

    def __call__(self, xs):
        return [F.reshape(xs[0], self.shape_of(xs[0].shape))]


class Reshape(Op):
    def __init__(self, spec, in_shapes):
        shape = single_input(spec, in_shapes, ndim=None)
        p = spec.params(('shape', 'axis', 'num_axes'))
        self.dims = p.sub('shape', ('dim',)).many('dim', 'int')
        self.axis, self.num_axes = p.get('axis', 'int', 0), p.get('num_axes', 'int', -1)
        self.spec = spec
        self.out_shapes = [self.shape_of(shape)]

    def shape_of(self, shape):
        """Caffe's reshape rule applied to a bottom of ``shape``."""
        spec, dims = self.spec, self.dims
        start = self.axis if self.axis >= 0 else len(shape) + self.axis + 1
        end = len(shape) if self.num_axes == -1 else start + self.num_axes
        if not 0 <= start <= end <= len(shape) or self.num_axes < -1:
            raise spec.refuse('axis {} / num_axes {} out of range for {}'.format(
                self.axis, self.num_axes, shape))
        if any(d == 0 and start + i >= len(shape) for i, d in enumerate(dims)):
            raise spec.refuse('dim 0 copies an axis the bottom {} does not have'.format(shape))
        new = [shape[start + i] if d == 0 else d for i, d in enumerate(dims)]
        if sum(d == -1 for d in new) > 1 or any(d < -1 for d in new):
            raise spec.refuse('shape {} has more than one -1 or a negative dim'.format(dims))
        out = list(shape[:start]) + new + list(shape[end:])
        total, known = int(np.prod(shape)), int(np.prod([d for d in out if d != -1]))
        if -1 in out:
            if known == 0 or total % known:
                raise spec.refuse('cannot infer -1 in {} for {} values'.format(out, total))
            out[out.index(-1)] = total // known
        if int(np.prod(out)) != total:
            raise spec.refuse('shape {} does not hold the {} values of {}'.format(
                out, total, shape))
        return tuple(out)

    def __call__(self, xs):
        return [F.reshape(xs[0], self.shape_of(xs[0].shape))]


class Split(Op):
    def __init__(self, spec, in_shapes):
        if len(in_shapes) != 1 or not spec.tops:
            raise spec.refuse('needs one bottom and at least one top')
        self.out_shapes = [in_shapes[0]] * len(spec.tops)

    def __call__(self, xs):
        return list(xs) * len(self.out_shapes)


class PriorBox(Op):
    def __init__(self, spec, in_shapes):
        if len(in_shapes) != 2 or len(spec.tops) != 1 or any(len(s) != 4 for s in in_shapes):
            raise spec.refuse('needs two 4-D bottoms (a feature map, the image) and one top')
        self.params = priorbox.from_params(spec.params(priorbox.KNOWN_FIELDS))
        self.feature_hw, self.image_hw = in_shapes[0][2:], in_shapes[1][2:]
        self.out_shapes = [(1, 2, int(np.prod(self.feature_hw)) * self.params.per_location * 4)]
        self._boxes = {}

    def boxes(self, feature_hw=None, image_hw=None):
        """The prior blob, float32 (1, 2, H * W * n * 4) (cached per size)."""
        key = (tuple(feature_hw or self.feature_hw), tuple(image_hw or self.image_hw))
        if key not in self._boxes:
            self._boxes[key] = priorbox.prior_boxes(self.params, *key)
        return self._boxes[key]

    def __call__(self, xs):
        boxes = self.boxes(xs[0].shape[2:], xs[1].shape[2:])
        return [chainer.Variable(xs[0].xp.asarray(boxes), requires_grad=False)]


#: type -> class, the layers without blobs.
OPS = {'ReLU': ReLU, 'Softmax': Softmax, 'Pooling': Pooling, 'Eltwise': Eltwise,
       'Concat': Concat, 'Permute': Permute, 'Flatten': Flatten, 'Reshape': Reshape,
       'Split': Split, 'PriorBox': PriorBox}
