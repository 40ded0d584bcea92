"""Every tolerance the suite's checks state, in one table.

Each bounds how far two computations that should agree may differ, and says
why they differ at all. The checks take their bound from here, their help texts
and report notes quote it from here (formatted, never retyped), and the tests
of those checks use the same names. ``scaled_err`` is ``max|ours - reference|
/ max|reference|`` over one array (:func:`replicate.parity.metrics.errors`).

This module imports nothing, so the GPU tools, which run before the stack is
installed, read it by its path (``tools/gpu_report.py``).
"""


def spelled(value):
    """A tolerance as the texts write it: ``1e-06`` -> ``'1e-6'``, ``0.0003`` -> ``'3e-4'``."""
    mantissa, exponent = '{:e}'.format(value).split('e')
    return '{}e{}'.format(mantissa.rstrip('0').rstrip('.'), int(exponent))


#: scaled_err of every layer and output, our SSD300 against ChainerCV, float32
#: on the CPU (``python -m replicate.parity``'s default): the same operations
#: in the same order give the same bits; the bound leaves room for a BLAS that
#: sums in another order.
PARITY_CPU = 1e-6
#: scaled_err of every record, our SSD300 on the CPU against ChainerCV's run
#: saved in a file (``python -m replicate.parity --reference FILE``, e.g.
#: ``tests/fixtures/parity_chainercv_random_b2.npz``) under another BLAS than
#: this process's (another OpenBLAS version, kernel or thread count, as the
#: file's provenance records it). OpenBLAS picks its kernel by processor (and
#: by ``OPENBLAS_CORETYPE``); kernels sum a product's terms in different orders,
#: and the last-bit differences compound over 23 convolutions, a softmax and
#: the decoding (measured: up to 5.2e-6, on the final scores, between an
#: AVX2 machine's Zen kernel and an AVX-512 machine's). Under the same BLAS the
#: default is :data:`PARITY_CPU` and every record is expected identical.
SAVED_RUN_CPU = 2e-5
#: The same on a GPU (``python -m replicate.parity --device @cupy:N``): cuDNN
#: and cuBLAS sum in another order than the CPU's BLAS, and the differences
#: compound over 23 convolutions; TF32 math (about 1e-3) is meant to fail it.
PARITY_GPU = 1e-4
#: scaled_err of every output, our SSD-MobileNetV2 port against TF on an OD API
#: export (``python -m replicate.odapi.parity``'s default): TF (Eigen/oneDNN,
#: NHWC) and Chainer (im2col + BLAS, NCHW) sum every convolution in another
#: order; also the score difference within which two detections count as tied.
ODAPI_PARITY = 1e-4
#: The same on the committed fixture export (``tests/fixtures/odapi_ssd_mobilenet_v2``,
#: ``tox -e parity``): a random, quarter-width network whose batch norms were
#: calibrated on noise amplifies float32 rounding several hundred times.
ODAPI_FIXTURE = 3e-4
#: scaled_err of one layer of the port alone, run on TF's own input of that
#: layer (the ``layer:`` rows of the OD API parity report): rounding that has
#: not compounded yet.
ODAPI_LAYER = 1e-5
#: scaled_err of the raw outputs (``mb_locs``, ``mb_confs``) of the ONNX Runtime
#: path against the Chainer model it was exported from (measured about 1e-6:
#: ONNX Runtime sums convolutions in another order than numpy's BLAS).
ONNX = 1e-5
#: Detections of one network whose float32 sums run in another order (ONNX
#: Runtime against Chainer, a batch of two against one image) matched by class
#: and rank: boxes within this many pixels ...
DETECTIONS_BOX_PX = 1e-3
#: ... and scores within this.
DETECTIONS_SCORE = 1e-5
#: Root-mean-square difference of an int8 model's raw outputs from its float32
#: export's, over the float32 outputs' own root mean square (tests of the int8
#: paths on a tiny random SSD, tests/replicate/test_int8.py): 8-bit activations
#: resolve the wide spread of random weights coarsely (measured 2-14%); a
#: broken quantization is off by 100% or more. Accuracy is measured on trained
#: weights instead (reports/bench/int8_trained.md).
INT8_RMS = 0.25
