"""Static post-training int8 quantization of an exported SSD with NNCF, for
OpenVINO.

``nncf.quantize`` on the OpenVINO model read from the float32 ONNX export:
its default scheme (the ``performance`` preset: weights int8 symmetric per
output channel, activations int8 symmetric per tensor, ranges from the
calibration images), with every calibration image used
(``subset_size``). OpenVINO's CPU plugin then runs the quantized
convolutions as int8 kernels.
"""


def quantize(network, calibration):
    """int8 ``openvino.Model`` of a float32 one.

    Args:
        network: ``openvino.Model`` (e.g. :attr:`replicate.ov.runtime.OpenVinoSSD.network`).
        calibration: list of float32 (1, 3, S, S) network inputs
            (:func:`replicate.ort.quantize.calibration_inputs`).

    Returns:
        ``(openvino.Model, facts)``: the quantized model and a dict of
        strings describing how it was made (for reports).
    """
    import logging

    import nncf
    logging.getLogger('nncf').setLevel(logging.WARNING)
    quantized = nncf.quantize(network, nncf.Dataset(list(calibration)),
                              preset=nncf.QuantizationPreset.PERFORMANCE,
                              subset_size=len(calibration))
    facts = {'tool': 'nncf {} quantize (performance preset)'.format(nncf.__version__),
             'weights': 'int8 symmetric, per output channel',
             'activations': 'int8 symmetric, per tensor, ranges from the calibration images',
             'calibration_images': str(len(calibration))}
    return quantized, facts
