"""The fast CPU path: our SSD300 exported to ONNX, run by ONNX Runtime.

* :func:`replicate.ort.export.export_ssd`: the Chainer model's ``forward``
  (image batch -> ``mb_locs``, ``mb_confs``) as an ONNX graph with a free
  batch dimension, weights embedded;
* :class:`replicate.ort.runtime.OnnxSSD`: ``predict`` as
  :meth:`replicate.SSD.predict` computes it (the same preprocessing, coder,
  NMS and presets), with the network run by ONNX Runtime.

The same weights give the same detections up to float32 rounding: ONNX
Runtime sums in another order than Chainer's BLAS calls (outputs agree to
about 1e-6 of their largest value; the bound is
:data:`replicate.tolerances.ONNX`, checked by ``tests/replicate/test_ort.py``).
"""
