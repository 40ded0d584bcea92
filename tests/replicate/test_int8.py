"""The OpenVINO and int8 paths on a tiny SSD (a forward in milliseconds):
OpenVINO float32 equals Chainer within the float32 tolerance of the ONNX path;
each int8 model is really quantized and stays within a stated error of the
float32 outputs.

Stated int8 tolerance (replicate.tolerances.INT8_RMS): the root-mean-square
difference from the float32 outputs at most 25% of the outputs' own root
mean square, per output (measured on this tiny SSD: about 2% with ONNX
Runtime's tools, 6-14% with NNCF, whose symmetric activations spend a bit on
signs; seeded random weights spread activations widely, which 8 bits resolve
coarsely; a broken quantization, wrong scales or layout, is off by 100% or
more). Accuracy of int8 is measured on trained weights
(reports/bench/int8_trained.md), not here.
"""
import chainer
import numpy as np
import pytest
from tiny_ssd import tiny_ssd

from replicate.ort.export import export_ssd
from replicate.ort.quantize import calibration_inputs, needs_reduce_range, quantize
from replicate.ort.runtime import OnnxSSD
from replicate.tolerances import INT8_RMS, ONNX

ov_runtime = pytest.importorskip('replicate.ov.runtime', reason='openvino extra not installed')


def images(n, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 255, (3, 40, 52)).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope='module')
def tiny():
    model = tiny_ssd(n_fg_class=3, seed=1)
    proto = export_ssd(model)
    return model, proto, calibration_inputs(model, images(8, 1))


def chainer_forward(model, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return [v.array for v in model.forward(x)]


def batch(model, n, seed):
    return model.prepare_batch(images(n, seed))[0]


def scaled_error(got, expected):
    """Largest difference over the largest magnitude, worst output."""
    return max(np.abs(g - e).max() / np.abs(e).max() for g, e in zip(got, expected, strict=True))


def rms_error(got, expected):
    """RMS difference over the RMS of the float32 output, worst output."""
    return max(np.sqrt(np.mean((g - e) ** 2) / np.mean(e ** 2))
               for g, e in zip(got, expected, strict=True))


@pytest.mark.parametrize('n', [1, 3])
def test_openvino_float32_equals_chainer(tiny, n):
    model, proto, _ = tiny
    runner = ov_runtime.OpenVinoSSD(model, threads=1, network=proto)
    x = batch(model, n, 10 + n)
    got, expected = runner.forward(x), chainer_forward(model, x)
    assert [g.shape for g in got] == [e.shape for e in expected]
    assert scaled_error(got, expected) <= ONNX


def test_onnxruntime_int8(tiny):
    import onnx
    model, proto, inputs = tiny
    data, facts = quantize(proto, inputs)
    ops = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    assert facts['calibration_images'] == '8'
    x = batch(model, 4, 20)
    error = rms_error(OnnxSSD(model, proto=data).forward(x), chainer_forward(model, x))
    assert 0 < error <= INT8_RMS  # changed by quantization, but not by much


def test_openvino_int8(tiny):
    from replicate.ov.quantize import quantize as nncf_quantize
    model, proto, inputs = tiny
    fp32 = ov_runtime.OpenVinoSSD(model, network=proto)
    network, facts = nncf_quantize(fp32.network, inputs)
    assert 'FakeQuantize' in {op.get_type_name() for op in network.get_ops()}
    x = batch(model, 4, 21)
    error = rms_error(ov_runtime.OpenVinoSSD(model, network=network).forward(x),
                      chainer_forward(model, x))
    assert 0 < error <= INT8_RMS


def test_reduce_range_only_without_vnni():
    assert needs_reduce_range({'avx2', 'fma'})
    assert not needs_reduce_range({'avx2', 'avx512f', 'avx512_vnni'})
    assert not needs_reduce_range({'avx2', 'avx_vnni'})
