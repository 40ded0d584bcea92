"""OpenVINO beside ONNX Runtime: the same ONNX export of our SSD
(:func:`replicate.ort.export.export_ssd`) run by OpenVINO's CPU plugin, in
float32 (:class:`replicate.ov.runtime.OpenVinoSSD`) and quantized to int8
by NNCF (:func:`replicate.ov.quantize.quantize`).

OpenVINO and NNCF are the project's ``openvino`` extra (``pip install
.[openvino]``; tox's test and bench environments have it).
"""
