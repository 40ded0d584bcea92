"""Layer-by-layer parity of :class:`replicate.odapi.SSDMobileNetV2` with
TensorFlow running the same OD API export.

* :mod:`~replicate.odapi.parity.tf_graph`: the export's frozen graph, any tensor by name;
* :mod:`~replicate.odapi.parity.names`: which TF tensor stands for each record of ours;
* :mod:`~replicate.odapi.parity.capture`: both runs as ``{name: array}`` records;
* :mod:`~replicate.odapi.parity.detections`: final detections when scores tie;
* :mod:`~replicate.odapi.parity.report`: CSV / Markdown / meta.json (the
  columns of :mod:`replicate.parity`);
* :mod:`~replicate.odapi.parity.cli`: ``python -m replicate.odapi.parity EXPORT_DIR``.
"""
