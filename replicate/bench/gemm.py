"""The best matrix multiply of the libraries at hand: a second estimate of
the machine's limit, and the floor used where the peak microbenchmark
(:mod:`replicate.bench.peak`) cannot run (no C compiler).

Square ``size`` x ``size`` products, all cores, best of ``repeats`` after one
untimed call: numpy's BLAS (float32), ONNX Runtime's MLAS (``MatMul``
float32; ``MatMulInteger`` u8 x s8 -> int32), OpenVINO's CPU plugin
(``MatMul`` float32) where installed. Rates in GMAC/s.
"""
import time

import numpy as np


def _best_rate(fn, size, repeats):
    fn()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = max(best, size ** 3 / (time.perf_counter() - start) / 1e9)
    return best


def _onnx_matmul(size, integer):
    """A one-node ONNX graph ``A @ B`` with B a constant, and its input A."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    if integer:
        a = rng.integers(0, 256, (size, size), dtype=np.uint8)
        b = rng.integers(-128, 128, (size, size), dtype=np.int8)
        node = helper.make_node('MatMulInteger', ['a', 'b'], ['y'])
        types = (TensorProto.UINT8, TensorProto.INT32)
    else:
        a = rng.standard_normal((size, size), dtype=np.float32)
        b = rng.standard_normal((size, size), dtype=np.float32)
        node = helper.make_node('MatMul', ['a', 'b'], ['y'])
        types = (TensorProto.FLOAT, TensorProto.FLOAT)
    graph = helper.make_graph([node], 'matmul',
                              [helper.make_tensor_value_info('a', types[0], [size, size])],
                              [helper.make_tensor_value_info('y', types[1], [size, size])],
                              [numpy_helper.from_array(b, 'b')])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), a


def numpy_fp32(size, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    return _best_rate(lambda: np.dot(a, b), size, repeats)


def onnxruntime_rate(size, repeats, integer):
    from replicate.ort.runtime import session
    proto, a = _onnx_matmul(size, integer)
    run = session(proto)
    return _best_rate(lambda: run.run(None, {'a': a}), size, repeats)


def openvino_fp32(size, repeats):
    import openvino

    from replicate.ov.runtime import CONFIG, read_onnx
    core = openvino.Core()
    proto, a = _onnx_matmul(size, False)
    compiled = core.compile_model(read_onnx(core, proto), 'CPU', CONFIG)
    return _best_rate(lambda: compiled({'a': a}), size, repeats)


#: name -> (kind, function(size, repeats) -> GMAC/s)
GEMMS = {
    'numpy_fp32': ('fp32', numpy_fp32),
    'onnxruntime_fp32': ('fp32', lambda s, r: onnxruntime_rate(s, r, False)),
    'openvino_fp32': ('fp32', openvino_fp32),
    'onnxruntime_int8': ('int8', lambda s, r: onnxruntime_rate(s, r, True)),
}


def measure(size=2048, repeats=5):
    """Rows ``{'gemm', 'kind', 'size', 'gmacs_best'}``; a library that is not
    installed gives a row with ``gmacs_best`` ``'-'`` and the reason."""
    rows = []
    for name, (kind, fn) in GEMMS.items():
        try:
            rows.append({'gemm': name, 'kind': kind, 'size': size,
                         'gmacs_best': fn(size, repeats), 'note': ''})
        except ImportError as exc:
            rows.append({'gemm': name, 'kind': kind, 'size': size, 'gmacs_best': '-',
                         'note': 'not installed ({})'.format(exc.name or exc)})
    return rows
