"""The channels-last CPU forward against Chainer's own convolution and max
pooling: bit-identical outputs for every layer shape SSD300 uses and for odd
ones, from either memory layout, at batch 1 (Chainer's operand layout for
small products, the channels-last rows for large ones) and above; gradients
unchanged. With OPENBLAS_CORETYPE unset on an AVX-512 machine, OpenBLAS's
small-matrix kernels make the small batch-1 cases fail if the layout differs."""
import sys

import chainer
import chainer.functions as F
import numpy as np
import pytest

from replicate.ssd import channels_last
from replicate.ssd.channels_last import Convolution2D, max_pooling_2d


def inputs(rng, b, c, h, w, layout):
    x = rng.standard_normal((b, h, w, c) if layout == 'nhwc' else (b, c, h, w))
    x = x.astype(np.float32)
    # an NCHW-shaped view of channels-last memory, as our layers return
    return x.transpose(0, 3, 1, 2) if layout == 'nhwc' else x


@pytest.mark.parametrize('layout', ['nchw', 'nhwc'])
@pytest.mark.parametrize('b, c, size, out_c, ksize, stride, pad, dilate', [
    (1, 3, 30, 8, 3, 1, 1, 1),      # conv1_1-like
    (1, 64, 40, 64, 3, 1, 1, 1),    # batch 1 above the small-product bound
    (2, 16, 19, 24, 3, 1, 6, 6),    # conv6: dilated
    (3, 16, 9, 12, 1, 1, 0, 1),     # conv7 / *_1: 1x1
    (2, 16, 10, 12, 3, 2, 1, 1),    # conv8_2: stride 2, odd output
    (1, 8, 5, 16, 3, 1, 0, 1),      # conv10_2: no padding
    (2, 8, 3, 16, 3, 1, 0, 1),      # conv11_2: 1x1 output
    (2, 5, 11, 7, (3, 2), (2, 1), (1, 0), (1, 2)),  # asymmetric everything
])
def test_convolution_identical(layout, b, c, size, out_c, ksize, stride, pad, dilate):
    rng = np.random.default_rng(0)
    x = inputs(rng, b, c, size, size + 1, layout)
    link = Convolution2D(c, out_c, ksize, stride=stride, pad=pad, dilate=dilate)
    link.b.array[:] = rng.standard_normal(out_c)
    got = link(x).array
    expected = F.convolution_2d(x, link.W, link.b, stride, pad, dilate=dilate).array
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    # the result lies channels-last in memory, as Chainer's does
    assert got.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize('block_bytes', [1, 2 * 17 * 16 * 9 * 4])
def test_convolution_identical_written_in_blocks_of_fewer_images(monkeypatch, block_bytes):
    # one image per block, and two per block with a last block of one: the
    # blocks large layers get at batch 8 (channels_last._BLOCK_BYTES)
    monkeypatch.setattr(channels_last, '_BLOCK_BYTES', block_bytes)
    rng = np.random.default_rng(1)
    x = inputs(rng, 3, 16, 16, 17, 'nhwc')
    link = Convolution2D(16, 8, 3, stride=1, pad=1)
    per_image = 17 * 16 * 3 * 3 * 4  # output width x C x kh x kw x 4 bytes
    assert max(1, block_bytes // per_image) < 3  # so the blocks do split the batch
    expected = F.convolution_2d(x, link.W, link.b, 1, 1).array
    np.testing.assert_array_equal(link(x).array, expected)


def test_convolution_gradients_unchanged():
    rng = np.random.default_rng(1)
    x = chainer.Variable(inputs(rng, 2, 4, 7, 7, 'nchw'))
    link = Convolution2D(4, 6, 3, pad=1)
    link.cleargrads()  # a new Parameter's grad is NaN-filled
    F.sum(link(x) ** 2).backward()
    ours = (x.grad.copy(), link.W.grad.copy(), link.b.grad.copy())
    x.cleargrad(), link.cleargrads()
    F.sum(F.convolution_2d(x, link.W, link.b, 1, 1) ** 2).backward()
    for a, b in zip(ours, (x.grad, link.W.grad, link.b.grad), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('layout', ['nchw', 'nhwc'])
@pytest.mark.parametrize('size, ksize, stride, pad', [
    (75, 2, 2, 0),   # ceil mode: 75 -> 38
    (38, 2, 2, 0),
    (19, 3, 1, 1),   # pool5
    (10, 3, 2, 1),   # overhanging windows
])
def test_max_pooling_identical(layout, size, ksize, stride, pad):
    x = inputs(np.random.default_rng(2), 2, 5, size, size + 2, layout)
    x[0, 0, :3, :3] = np.nan  # NaN propagates like Chainer's
    with chainer.no_backprop_mode():
        got = max_pooling_2d(x, ksize, stride, pad, cover_all=True).array
        expected = F.max_pooling_2d(x, ksize, stride, pad, cover_all=True).array
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_max_pooling_with_backprop_falls_back_to_chainer():
    x = chainer.Variable(inputs(np.random.default_rng(3), 1, 3, 9, 9, 'nchw'))
    y = max_pooling_2d(x, 2, 2)
    F.sum(y).backward()
    assert x.grad.sum() == y.size  # one gradient per window maximum


def test_workspace_shares_buffers_and_changes_nothing():
    from replicate.ssd import channels_last
    rng = np.random.default_rng(4)
    link = Convolution2D(6, 8, 3, pad=1)
    xs = [inputs(rng, 2, 6, 12, 12, 'nhwc') for _ in range(2)]
    outside = [link(x).array.copy() for x in xs]
    with channels_last.workspace():
        inside = [link(x).array.copy() for x in xs]
        buffers = dict(channels_last._local.buffers)
    assert set(buffers) == {'rows', 'padded'}  # one of each, reused by both calls
    assert channels_last._local.buffers is None  # freed at the end
    for a, b in zip(outside, inside, strict=True):
        np.testing.assert_array_equal(a, b)


def test_keep_freed_memory_on_glibc():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, '-c', 'import replicate.memory as m; '
                           'print(m.keep_freed_memory())'], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == 'True', done.stderr


#: MB the heap holds from the OS (glibc's ``mallinfo2().arena``) after a
#: 2.25 GiB block is freed: more than a batch-8 forward frees at once, and
#: more than any positive int threshold (with 2^31 - 1, glibc trimmed it:
#: the heap fell back to a few MB).
_HEAP_AFTER_FREE = """
import ctypes
import numpy as np
import replicate.memory
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        'arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost').split()]
libc = ctypes.CDLL('libc.so.6')
libc.mallinfo2.restype = Info
assert replicate.memory.keep_freed_memory()
block = np.empty(9 * 2 ** 28, dtype=np.uint8)
del block
print(libc.mallinfo2().arena // 2 ** 20)
"""


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc')
def test_freed_gigabytes_stay_in_the_process():
    import subprocess
    done = subprocess.run([sys.executable, '-c', _HEAP_AFTER_FREE], capture_output=True,
                          text=True, timeout=120)
    if 'mallinfo2' in done.stderr:
        pytest.skip('glibc before 2.33 has no mallinfo2')
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 2200  # kept for the next forward
