"""Adapter for a TF1 Object Detection API ``frozen_inference_graph.pb``.

Imported with ``tf.compat.v1.import_graph_def`` into its own graph and run in a
``tf.compat.v1.Session``: feed ``image_tensor:0`` (uint8 ``[1, H, W, 3]``),
fetch ``detection_boxes:0``, ``detection_scores:0``, ``detection_classes:0``,
``num_detections:0`` (same meaning as the TF2 outputs, see ``tf_common``).
One image per run, as for the TF2 export. Stages: preprocess = adding the
batch axis; inference = ``session.run``; postprocess = pixel boxes + names.
"""
import os

import numpy as np

from compare.adapters import tf_common
from compare.adapters.protocol import StageTimer
from compare.detections import DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path

INPUT = 'image_tensor:0'
FETCHES = tuple(key + ':0' for key in tf_common.OUTPUT_KEYS)


class TFFrozenGraphAdapter:
    """A TF1 frozen OD API graph behind the adapter interface
    (:mod:`compare.adapters.protocol`)."""
    order = 'score'

    def __init__(self, name, path, labels=None):
        self.name, self.path, self.labels = name, path, labels
        self.session = self.label_map_path = self.device = self.threads = self.sha256 = None
        self.label_names = {}

    def load(self):
        if not os.path.isfile(self.path):
            raise UserError('frozen graph {} does not exist; pass a frozen_inference_graph.pb'
                            .format(self.path))
        folder = os.path.dirname(os.path.abspath(self.path))
        self.label_map_path, self.label_names = tf_common.find_label_map(
            self.labels, [folder, os.path.dirname(folder)], self.path)
        tf = tf_common.import_tensorflow()
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(self._read_graph_def(tf), name='')
        names = [INPUT] + list(FETCHES)
        missing = [n for n in names if n[:-2] not in {op.name for op in graph.get_operations()}]
        if missing:
            raise UserError('frozen graph {} lacks tensors {}; expected {} (TF1 OD API export)'
                            .format(self.path, ', '.join(missing), ', '.join(names)))
        self.session = tf.compat.v1.Session(graph=graph)
        self.input = graph.get_tensor_by_name(INPUT)
        self.fetches = [graph.get_tensor_by_name(n) for n in FETCHES]
        self.device, self.threads = tf_common.tf_runtime_info(tf)
        self.sha256 = tf_common.tree_sha256(self.path)

    def _read_graph_def(self, tf):
        graph_def = tf.compat.v1.GraphDef()
        try:
            with open(self.path, 'rb') as f:
                graph_def.ParseFromString(f.read())
        except Exception as exc:  # protobuf DecodeError and friends
            raise UserError('{} is not a TF GraphDef: {}: {}'.format(
                self.path, type(exc).__name__, ' '.join(str(exc).split()))) from None
        return graph_def

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        timer, detections = StageTimer(), []
        for image in images:
            with timer('preprocess'):
                # (H, W, 3) -> (1, H, W, 3)
                batch = np.ascontiguousarray(image, np.uint8)[None]
            with timer('inference'):
                boxes, classes, scores, num = self.session.run(self.fetches, {self.input: batch})
            with timer('postprocess'):
                detections.append(tf_common.od_outputs_to_detections(
                    boxes[0], classes[0], scores[0], num[0], image.shape[:2], self.label_names))
        return Prediction(detections, timer.times)

    def info(self):
        return DetectorInfo(
            self.name, display_path(self.path), self.sha256, False, self.device, self.threads,
            tuple(self.label_names[k] for k in sorted(self.label_names)),
            {'format': 'TF1 frozen graph (OD API export)',
             'label_map': display_path(self.label_map_path),
             'label_ids': sorted(self.label_names), 'batching': 'one image per session.run'})


def build_tf1(arg, options, settings):
    """``tf1:PATH/frozen_inference_graph.pb[,labels=PATH|coco][,name=NAME]``."""
    if not arg:
        raise UserError('tf1 detector needs a path: tf1:path/to/frozen_inference_graph.pb')
    folder = os.path.basename(os.path.dirname(os.path.abspath(arg)))
    name = options.pop('name', 'tf1-' + tf_common.slug(folder or arg))
    return TFFrozenGraphAdapter(name, arg, labels=options.pop('labels', None))
