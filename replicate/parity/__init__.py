"""Layer-by-layer parity of ``replicate.SSD300`` with ChainerCV's SSD300.

Modules, one idea each:

* :mod:`~replicate.parity.tracing`: record every named output of any Chainer
  link with Chainer's link and function hooks;
* :mod:`~replicate.parity.capture`: what is recorded of an SSD model
  (layers, decoded boxes, detections);
* :mod:`~replicate.parity.metrics`: comparing two arrays, the verdict;
* :mod:`~replicate.parity.models`: the two models and their shared weights;
* :mod:`~replicate.parity.inputs`: the images fed to both;
* :mod:`~replicate.parity.reference`: a saved reference run (for the GPU);
* :mod:`~replicate.parity.report`: CSV / Markdown / meta.json;
* :mod:`~replicate.parity.cli`: ``python -m replicate.parity``.
"""
from replicate.parity.metrics import compare, compare_traces  # noqa: F401
from replicate.parity.tracing import trace_call  # noqa: F401
