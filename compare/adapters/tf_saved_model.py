"""Adapter for a TF2 Object Detection API export (SavedModel).

Accepts the export folder (holding ``saved_model/``) or the SavedModel folder
itself. Runs ``tf.saved_model.load(dir).signatures['serving_default']``, which
for an ``image_tensor`` export takes ``input_tensor`` uint8 ``[1, H, W, 3]``.

Images are fed ONE AT A TIME: the ``image_tensor`` export has batch fixed to 1
and, given a batch of 2, silently returns one result. A batch in ``predict``
is therefore a loop, and its times are the sums over the images.

Stages: preprocess = numpy -> ``[1, H, W, 3]`` uint8 tensor; inference = the
signature call (the export's own resize, network, decoding and NMS: it cannot
be split from outside); postprocess = tensors -> numpy -> pixel boxes + names.
"""
import os

import numpy as np

from compare.adapters import tf_common
from compare.adapters.protocol import StageTimer
from compare.detections import DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path

SIGNATURE = 'serving_default'
EXPECTED = ('signature serving_default with input input_tensor uint8 [1, H, W, 3] and '
            'outputs ' + ', '.join(tf_common.OUTPUT_KEYS))


def find_saved_model_dir(path):
    """``path/saved_model`` or ``path`` itself, whichever holds saved_model.pb."""
    for candidate in (os.path.join(path, 'saved_model'), path):
        if os.path.isfile(os.path.join(candidate, 'saved_model.pb')):
            return candidate
    if not os.path.exists(path):
        raise UserError('TF model folder {} does not exist'.format(path))
    raise UserError('no saved_model.pb in {} or {}/saved_model; pass an OD API export '
                    'folder'.format(path, path))


class TFSavedModelAdapter:
    """A TF2 OD API SavedModel behind the adapter interface
    (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name.
        path: export folder or SavedModel folder.
        labels: label map option (``'coco'``, a path, or None to look beside
            the model).
        note: where the model came from (recorded in ``info``).
        prepare: callable run first in ``load`` (e.g. fetching a zoo archive).
    """

    order = 'score'

    def __init__(self, name, path, labels=None, note='', prepare=None):
        self.name, self.path, self.labels, self.note = name, path, labels, note
        self.prepare = prepare
        self.model_dir = self.function = self.label_map_path = None
        self.label_names, self.device, self.threads, self.sha256 = {}, None, None, None

    def load(self):
        if self.prepare is not None:
            self.prepare()
        self.model_dir = find_saved_model_dir(self.path)
        parent = os.path.dirname(os.path.abspath(self.model_dir))
        self.label_map_path, self.label_names = tf_common.find_label_map(
            self.labels, [os.path.abspath(self.path), os.path.abspath(self.model_dir), parent],
            self.path)
        tf = tf_common.import_tensorflow()
        try:
            self._loaded = tf.saved_model.load(self.model_dir)  # keeps variables alive
        except Exception as exc:
            raise UserError('cannot load SavedModel {}: {}: {}'.format(
                self.model_dir, type(exc).__name__, ' '.join(str(exc).split())[:300])) from None
        self.function = self._check_signature(tf)
        self.device, self.threads = tf_common.tf_runtime_info(tf)
        self.sha256 = tf_common.tree_sha256(self.model_dir)

    def _check_signature(self, tf):
        """The serving function, or UserError saying what was found."""
        signatures = dict(getattr(self._loaded, 'signatures', {}) or {})
        if SIGNATURE not in signatures:
            raise UserError('SavedModel {} has signatures {}; expected {}'.format(
                self.model_dir, sorted(signatures) or 'none', EXPECTED))
        function = signatures[SIGNATURE]
        inputs = function.structured_input_signature[1]
        spec = inputs.get('input_tensor')
        outputs = sorted(function.structured_outputs)
        missing = [key for key in tf_common.OUTPUT_KEYS if key not in outputs]
        if spec is None or spec.dtype != tf.uint8 or spec.shape.rank != 4 or missing:
            found = ', '.join('{} {} {}'.format(k, v.dtype.name, v.shape)
                              for k, v in inputs.items())
            raise UserError('SavedModel {} has inputs ({}) and outputs ({}); expected {}'.format(
                self.model_dir, found, ', '.join(outputs), EXPECTED))
        return function

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        import tensorflow as tf
        timer, detections = StageTimer(), []
        for image in images:
            with timer('preprocess'):
                # (H, W, 3) -> (1, H, W, 3) uint8
                tensor = tf.convert_to_tensor(np.ascontiguousarray(image)[None], tf.uint8)
            with timer('inference'):
                outputs = self.function(input_tensor=tensor)
            with timer('postprocess'):
                arrays = {key: outputs[key].numpy()[0] for key in tf_common.OUTPUT_KEYS}
                detections.append(tf_common.od_outputs_to_detections(
                    arrays['detection_boxes'], arrays['detection_classes'],
                    arrays['detection_scores'], arrays['num_detections'], image.shape[:2],
                    self.label_names))
        return Prediction(detections, timer.times)

    def info(self):
        return DetectorInfo(
            self.name, display_path(self.model_dir or self.path), self.sha256, False,
            self.device, self.threads,
            tuple(self.label_names[k] for k in sorted(self.label_names)),
            {'format': 'TF2 SavedModel (OD API export)', 'signature': SIGNATURE,
             'label_map': display_path(self.label_map_path), 'origin': self.note or self.path,
             'label_ids': sorted(self.label_names),
             'batching': 'one image per call (image_tensor export: batch 1)'})


def build_tf(arg, options, settings):
    """``tf:PATH[,labels=PATH|coco][,name=NAME]``."""
    if not arg:
        raise UserError('tf detector needs a path: tf:path/to/export')
    name = options.pop('name', 'tf-' + tf_common.slug(arg))
    return TFSavedModelAdapter(name, arg, labels=options.pop('labels', None))

