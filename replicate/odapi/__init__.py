"""SSD-MobileNetV2 as the TF Object Detection API builds it, in Chainer: the
same network and weights as an OD API TF2 export, layer by layer.

``SSDMobileNetV2.from_export(EXPORT_DIR)`` reads the export's
``pipeline.config`` (what to build; anything else is refused, naming the
field) and its variables (strictly, by name). One file per idea:

* :mod:`~replicate.odapi.textproto`, :mod:`~replicate.odapi.config`: the
  pipeline config;
* :mod:`~replicate.odapi.layers`: Keras layers as links (TF 'SAME' padding,
  batch norm, activations);
* :mod:`~replicate.odapi.mobilenet_v2`: the base network;
* :mod:`~replicate.odapi.feature_maps`: base outputs + extra layers (the extractor);
* :mod:`~replicate.odapi.box_predictor`: the convolutional box predictor (multibox);
* :mod:`~replicate.odapi.anchors`, :mod:`~replicate.odapi.coder`: anchors and
  the Faster R-CNN box coder (and the argmax matcher for training targets);
* :mod:`~replicate.odapi.preprocess`, :mod:`~replicate.odapi.postprocess`:
  the resizer and normalization, score conversion and per-class NMS;
* :mod:`~replicate.odapi.checkpoint`: the strict weight loader;
* :mod:`~replicate.odapi.ssd`: the composition;
* TF1 frozen graphs (``SlimSSDMobileNetV2.from_frozen_graph(PATH)``, SSDLite
  included): :mod:`~replicate.odapi.frozen_graph` (the graph read as data),
  :mod:`~replicate.odapi.const_eval` (its anchors computed from its constants),
  :mod:`~replicate.odapi.graph_config` (the configuration read from the graph),
  :mod:`~replicate.odapi.slim_mobilenet_v2`, :mod:`~replicate.odapi.slim_feature_maps`
  (the TF1 slim extractor), :mod:`~replicate.odapi.ssdlite_predictor` (SSDLite's
  depthwise heads), :mod:`~replicate.odapi.frozen_weights` (weights from the
  graph's constants, strictly), :mod:`~replicate.odapi.frozen_ssd` (the composition);
* :mod:`replicate.odapi.parity`: ``python -m replicate.odapi.parity EXPORT_DIR``
  (or a frozen graph), the layer-by-layer proof against TensorFlow running the export.
"""
from replicate.odapi.config import SSDConfig, read_pipeline  # noqa: F401
from replicate.odapi.errors import ConfigError, ExportError, ExportWeightsError  # noqa: F401
from replicate.odapi.frozen_ssd import SlimSSDMobileNetV2  # noqa: F401
from replicate.odapi.ssd import SSDMobileNetV2  # noqa: F401
