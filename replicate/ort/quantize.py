"""Static post-training int8 quantization of an exported SSD with ONNX
Runtime's own tools (``onnxruntime.quantization``).

What it does to the float32 export of :func:`replicate.ort.export.export_ssd`:

1. the graph is converted to opset :data:`OPSET` (per-channel
   ``DequantizeLinear`` needs 13; onnx_chainer writes 11);
2. ``quant_pre_process``: shape inference and graph optimisation, as the
   tools recommend before quantizing;
3. ``quantize_static`` in QDQ form: weights int8 symmetric per output
   channel, activations uint8 asymmetric per tensor, the ranges of the
   activations taken as min/max over the calibration images; ONNX Runtime
   then runs the convolutions as int8 kernels (u8 x s8).

On processors without VNNI the u8 x s8 kernels add pairs of products in
int16 (``VPMADDUBSW``), which can saturate; ONNX Runtime's documentation
recommends 7-bit weights (``reduce_range``) there, and :func:`quantize`
chooses it from the CPU flags unless told.
"""
import os
import tempfile

import numpy as np

from replicate.ort.export import INPUT

#: Opset of the graph that is quantized.
OPSET = 13


def calibration_inputs(model, images):
    """The network inputs of ``images``, one image each: float32 (1, 3,
    insize, insize) arrays, prepared by ``model.prepare_batch`` exactly as
    the detector prepares them."""
    return [model.prepare_batch([image])[0] for image in images]


def needs_reduce_range(flags):
    """True without an int8 dot-product instruction (AVX-512 VNNI or AVX-VNNI)."""
    return not ({'avx512_vnni', 'avx_vnni'} & set(flags))


class _Reader:
    """``onnxruntime.quantization.CalibrationDataReader`` over a list of inputs."""

    def __init__(self, inputs):
        self._inputs = iter(inputs)

    def get_next(self):
        x = next(self._inputs, None)
        return None if x is None else {INPUT: np.ascontiguousarray(x, dtype=np.float32)}

    def rewind(self):  # pragma: no cover - called by some calibrators only
        raise NotImplementedError


def quantize(proto, calibration, reduce_range=None):
    """int8 model of a float32 export.

    Args:
        proto: ``onnx.ModelProto`` from :func:`replicate.ort.export.export_ssd`.
        calibration: list of float32 (1, 3, S, S) network inputs
            (:func:`calibration_inputs`).
        reduce_range (bool or None): 7-bit weights; None: decided from
            this processor's flags (:func:`needs_reduce_range`).

    Returns:
        ``(bytes, facts)``: the serialized quantized model, and a dict of
        strings describing how it was made (for reports).
    """
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from replicate.cpuinfo import cpu_flags
    if reduce_range is None:
        reduce_range = needs_reduce_range(cpu_flags())
    with tempfile.TemporaryDirectory(prefix='ort-int8-') as folder:
        source, prepared, target = (os.path.join(folder, name + '.onnx')
                                    for name in ('fp32', 'prepared', 'int8'))
        onnx.save(version_converter.convert_version(proto, OPSET), source)
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_static(prepared, target, _Reader(calibration), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, reduce_range=reduce_range,
                        calibrate_method=CalibrationMethod.MinMax)
        with open(target, 'rb') as f:
            data = f.read()
    facts = {'tool': 'onnxruntime.quantization.quantize_static (QDQ, opset {})'.format(OPSET),
             'weights': 'int8 symmetric, per output channel{}'.format(
                 ', 7-bit (reduce_range: no VNNI)' if reduce_range else ''),
             'activations': 'uint8 asymmetric, per tensor, min/max over the calibration images',
             'calibration_images': str(len(calibration))}
    return data, facts
