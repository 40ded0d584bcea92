"""The hardware floor: how fast could SSD300 run here at best?

SSD300 is almost all convolution, i.e. matrix multiplication: its cost is
its multiply-accumulates (MACs). The machine's float32 matrix multiply speed
(numpy's BLAS on large square matrices, all cores) turns them into a lower
bound on the forward time per image: ``2 * MACs / (FLOP/s)``. It is measured
in the same run as the timings it is compared with, since a shared machine
is slower at some moments than at others.
"""
import time

import chainer
import numpy as np

from replicate.ssd.channels_last import Convolution2D


def convolution_macs(model):
    """Multiply-accumulates of one image through ``model``'s convolutions:
    for each, output elements x (input channels x kernel area), counted on a
    real forward of one zero image (SSD300 with 20 classes: 27.1 G)."""
    outputs = []

    class Hook(chainer.LinkHook):
        name = 'macs'

        def forward_postprocess(self, args):
            link = args.link
            if isinstance(link, (Convolution2D, chainer.links.Convolution2D)):
                outputs.append(args.out.size * link.W.size // link.W.shape[0])

    x = model.xp.zeros((1, 3, model.insize, model.insize), dtype=np.float32)
    with Hook(), chainer.using_config('train', False), chainer.no_backprop_mode():
        model.forward(x)
    return sum(outputs)


def matmul_gflops(size=2048, repeats=5):
    """``(median, best)`` GFLOP/s of numpy float32 ``size x size`` matrix
    products, after one untimed product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    np.dot(a, b)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.dot(a, b)
        rates.append(2.0 * size ** 3 / (time.perf_counter() - start) / 1e9)
    return float(np.median(rates)), float(max(rates))


def floor(model, size=2048, repeats=5):
    """A dict (the report's ``floor.*`` entries): MACs per image, matmul
    GFLOP/s (median and best of ``repeats``), and the floor in seconds per
    image at the median speed."""
    macs = convolution_macs(model)
    median, best = matmul_gflops(size, repeats)
    return {'macs_per_image': macs, 'matmul_size': size, 'matmul_gflops_median': median,
            'matmul_gflops_best': best, 'floor_s_per_image': 2.0 * macs / (median * 1e9)}
