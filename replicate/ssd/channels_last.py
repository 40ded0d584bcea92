"""CPU forward of convolution and max pooling in channels-last memory,
bit-identical to Chainer's own and faster at every batch size.

Why Chainer's CPU convolution is slow, and slower per image in a batch
(profiled on SSD300): it builds the im2col matrix as (B, C, kh, kw, oh, ow),
then ``numpy.tensordot`` copies it again into the (B*oh*ow, C*kh*kw) row
layout the matrix multiply needs (a strided transpose of up to 1.7 GB for
conv1_2 at batch 8; at batch 1 a free reshape happens to avoid it), and it
pads its input by first copying an NCHW view of channels-last memory into
NCHW order. Max pooling does the same im2col, then ``max`` and ``argmax``.

Here the same (B*oh*ow, C*kh*kw) matrix is written directly, row block by
row block, from the input in channels-last order (B, H, W, C), which is how
the previous convolution's output already lies in memory (Chainer returns
an NCHW-shaped view of the (B, oh, ow, C_out) product). The matrix multiply
is then the very call ``tensordot`` makes: the same float32 operands, shapes
and row-major layout, so OpenBLAS returns the same bits. (The operand values
are only copied, never computed, before it; splitting the multiply into
smaller calls would change the bits, which is why the batch is not split.)
The output is returned as the same NCHW view of channels-last memory that
Chainer returns, so every later operation, reductions included, sees the
layout it sees in ChainerCV.

Max pooling takes the maximum of shifted strided slices, in the window order
(row-major over the kernel) that Chainer's ``max`` over im2col uses.
"""
import contextlib
import threading

import chainer
import chainer.links as L
import numpy as np
from chainer.functions.connection import convolution_2d
from chainer.functions.pooling import max_pooling_nd
from chainer.utils import conv

_local = threading.local()


@contextlib.contextmanager
def workspace():
    """Within this context (one network forward), the large temporary arrays
    (the im2row matrix, the padded input) reuse one buffer each instead of
    being allocated per layer.

    Measured on SSD300: fresh arrays of hundreds of MB cost the kernel about
    as much time (page faults, zeroing) as a third of the arithmetic, and
    more per image at batch 8 than at batch 1. The buffers are freed when
    the context ends. Values are only ever copied into them, so results are
    unchanged.
    """
    outer = getattr(_local, 'buffers', None)
    _local.buffers = {} if outer is None else outer
    try:
        yield
    finally:
        _local.buffers = outer


def _scratch(name, shape, dtype):
    """An uninitialised array, from the workspace's buffer ``name`` when a
    :func:`workspace` is active (its content is overwritten by the next use)."""
    buffers = getattr(_local, 'buffers', None)
    if buffers is None:
        return np.empty(shape, dtype=dtype)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if name not in buffers or buffers[name].nbytes < size:
        buffers.pop(name, None)  # free the smaller one first
        buffers[name] = np.empty(size, dtype=np.uint8)
    return buffers[name][:size].view(dtype).reshape(shape)


def channels_last(x):
    """NCHW-shaped (B, C, H, W) array -> C-contiguous (B, H, W, C); free when
    its memory already is channels-last."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _padded(x, top, bottom, left, right, value):
    """(B, H, W, C) -> (B, top + H + bottom, left + W + right, C), the new
    border filled with ``value``."""
    if top == bottom == left == right == 0:
        return x
    b, h, w, c = x.shape
    out = _scratch('padded', (b, top + h + bottom, left + w + right, c), x.dtype)
    out[:, :top] = value
    out[:, top + h:] = value
    out[:, top:top + h, :left] = value
    out[:, top:top + h, left + w:] = value
    out[:, top:top + h, left:left + w] = x
    return out


#: Bytes of the im2row matrix written as one block (one output row of one or
#: more images): under the L2 cache of one core (1 MiB on the 2-core AMD EPYC
#: measured, 2 MiB on the Intel Xeon), so a block is still cached when written.
_BLOCK_BYTES = 1 << 20


def im2row(x, kh, kw, sy, sx, ph, pw, dy, dx, oh, ow):
    """The matrix of a convolution as one row per output pixel.

    Args:
        x: float (B, H, W, C) channels-last input.
        kh, kw, sy, sx, ph, pw, dy, dx: kernel, stride, padding, dilation.
        oh, ow: output size.

    Returns:
        (B*oh*ow, C*kh*kw) C-contiguous: row (b, y, x) holds the input
        patch in (c, j, i) order, zeros where it covers the padding.
    """
    b, _, _, c = x.shape
    if kh == kw == 1 and sy == sx == 1 and ph == pw == 0:
        return x.reshape(b * oh * ow, c)
    xp = _padded(x, ph, ph, pw, pw, 0)
    rows = _scratch('rows', (b, oh, ow, c, kh, kw), x.dtype)
    # output row by output row, so each block is written while in cache; a
    # block holds the row of as many images as fit in _BLOCK_BYTES (one, on
    # SSD300's large layers: the row of 8 outgrows L2 and cost 1.8x per image)
    per_image = max(1, ow * c * kh * kw * x.itemsize)
    step = max(1, _BLOCK_BYTES // per_image)
    for first in range(0, b, step):
        images = slice(first, min(b, first + step))
        for y in range(oh):
            for j in range(kh):
                line = xp[images, y * sy + j * dy]  # (images, W + 2pw, C)
                for i in range(kw):
                    rows[images, y, :, :, j, i] = line[:, i * dx:i * dx + sx * ow:sx]
    return rows.reshape(b * oh * ow, c * kh * kw)


def im2col_single(x, kh, kw, sy, sx, ph, pw, dy, dx, oh, ow):
    """The same matrix for one image, laid out as Chainer lays it out.

    Args:
        x: float (1, C, H, W), any memory layout.
        kh, kw, sy, sx, ph, pw, dy, dx, oh, ow: as :func:`im2row`.

    Returns:
        (oh*ow, C*kh*kw), Fortran-contiguous: the transpose of a C-contiguous
        (C*kh*kw, oh*ow) im2col matrix. At batch 1 Chainer's ``tensordot``
        hands the matrix multiply exactly this view, and OpenBLAS may sum a
        transposed operand in another order than a plain one (its AVX-512
        small-matrix kernels do, measured), so the layout is part of the bits.
    """
    _, c, h, w = x.shape
    image = np.ascontiguousarray(x[0])  # (C, H, W)
    if kh == kw == 1 and sy == sx == 1 and ph == pw == 0:
        return image.reshape(c, h * w).T
    padded = image
    if ph or pw:
        padded = _scratch('padded', (c, h + 2 * ph, w + 2 * pw), x.dtype)
        padded[...] = 0
        padded[:, ph:ph + h, pw:pw + w] = image
    cols = _scratch('rows', (c, kh, kw, oh, ow), x.dtype)
    for j in range(kh):
        for i in range(kw):
            cols[:, j, i] = padded[:, j * dy:j * dy + sy * oh:sy, i * dx:i * dx + sx * ow:sx]
    return cols.reshape(c * kh * kw, oh * ow).T


# Matrix products up to this size (M * K * N) get Chainer's own operand layout
# at batch 1. OpenBLAS sums a product in an order that depends on the
# operands' transposition only in its small-matrix kernels, which it uses
# below 100**3 (AVX-512 builds; measured on every SSD300 layer shape: the 6
# that differ are all under 1e6); above that the layout only changes how
# operands are packed, and the faster channels-last rows are used. The margin
# costs nothing measurable: these products are a few milliseconds in all.
_SMALL_PRODUCT = 2 ** 24


class Convolution2DFunction(convolution_2d.Convolution2DFunction):
    """Chainer's 2-D convolution with the CPU forward above; GPU forward and
    every backward are Chainer's (they depend on the inputs only)."""

    def _forward_cpu_core(self, x, W, b):
        if self._use_ideep or self.cover_all:
            return super()._forward_cpu_core(x, W, b)
        out_c, _, kh, kw = W.shape
        oh = conv.get_conv_outsize(x.shape[2], kh, self.sy, self.ph, d=self.dy)
        ow = conv.get_conv_outsize(x.shape[3], kw, self.sx, self.pw, d=self.dx)
        geometry = (kh, kw, self.sy, self.sx, self.ph, self.pw, self.dy, self.dx, oh, ow)
        product = oh * ow * W[0].size * out_c  # M * K * N of the matrix multiply
        if x.shape[0] == 1 and product <= _SMALL_PRODUCT:
            rows = im2col_single(x, *geometry)  # Chainer's operand layout (see there)
        else:
            rows = im2row(channels_last(x), *geometry)
        # W (C_out, C, kh, kw) -> (C*kh*kw, C_out), the copy tensordot makes
        weight = W.transpose(1, 2, 3, 0).reshape(-1, out_c)
        y = np.dot(rows, weight).reshape(x.shape[0], oh, ow, out_c)
        if b is not None:
            y += b
        # (B, oh, ow, C_out) memory, seen as (B, C_out, oh, ow)
        return y.transpose(0, 3, 1, 2),


class Convolution2D(L.Convolution2D):
    """``L.Convolution2D`` (same parameters, same results) whose CPU forward
    is :class:`Convolution2DFunction`."""

    def forward(self, x):
        if self.W.raw_array is None:
            self._initialize_params(x.shape[1])
        func = Convolution2DFunction(self.stride, self.pad, dilate=self.dilate,
                                     groups=self.groups)
        if self.b is None:
            return func.apply((x, self.W))[0]
        return func.apply((x, self.W, self.b))[0]


class MaxPooling2D(max_pooling_nd.MaxPoolingND):
    """Chainer's max pooling; without backpropagation (inference) its CPU
    forward takes maxima of strided slices of channels-last memory."""

    # Chainer's name: parity traces compare by it, onnx_chainer converts by it
    custom_function_node_name = 'MaxPoolingND'

    @property
    def label(self):
        return self.custom_function_node_name

    def forward_cpu(self, inputs):
        if chainer.config.enable_backprop:  # backward needs Chainer's indexes
            return super().forward_cpu(inputs)
        x, = inputs
        (kh, kw), (sy, sx), (ph, pw) = self.ksize, self.stride, self.pad
        h, w = x.shape[2:]
        oh = conv.get_conv_outsize(h, kh, sy, ph, self.cover_all)
        ow = conv.get_conv_outsize(w, kw, sx, pw, self.cover_all)
        # -inf around, also where cover_all lets the last windows overhang
        xp = _padded(channels_last(x), ph, max(0, (oh - 1) * sy + kh - h - ph),
                     pw, max(0, (ow - 1) * sx + kw - w - pw), -np.inf)
        y = None
        for j in range(kh):  # window order (j, i) row-major, as Chainer's max
            for i in range(kw):
                part = xp[:, j:j + sy * oh:sy, i:i + sx * ow:sx]
                y = part.copy() if y is None else np.maximum(y, part, out=y)
        self._in_shape, self._in_dtype = x.shape, x.dtype
        # (B, oh, ow, C) memory, seen as (B, C, oh, ow)
        return y.transpose(0, 3, 1, 2),


def max_pooling_2d(x, ksize, stride=None, pad=0, cover_all=True):
    """``F.max_pooling_2d`` with :class:`MaxPooling2D`'s CPU forward."""
    return MaxPooling2D(2, ksize, stride, pad, cover_all).apply((x,))[0]
