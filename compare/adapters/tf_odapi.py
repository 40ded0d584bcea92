"""The adapter of TF Object Detection API exports: ``tf:``, ``tf1:`` (and
``tfzoo:``, :mod:`compare.adapters.tf_zoo`).

One adapter for both TF generations and every input type, composed of:

- :mod:`~compare.adapters.tf_locate`: which model the path means (the export
  folder, its ``saved_model/``, a TF1 zoo folder, any file in them);
- :mod:`~compare.adapters.tf_saved_model` or :mod:`~compare.adapters.tf_frozen`:
  loading it and checking it is an OD API detection export;
- :mod:`~compare.adapters.tf_inputs`: what its input takes and what we feed
  (``decode=pil|tf``);
- :mod:`~compare.adapters.tf_common`: label maps and the output conversion.

Stages: preprocess = building the input (stacking pixels, TF decoding with
``decode=tf``, PNG encoding or ``tf.train.Example`` serialization);
inference = the model call (for string inputs it includes the model's own
decoding); postprocess = outputs -> pixel boxes + names. Images of one size
go in one call (:func:`compare.adapters.tf_inputs.groups`).
"""
import os

from compare.adapters import packaged_models, tf_common, tf_inputs, tf_locate
from compare.adapters.protocol import StageTimer
from compare.adapters.tf_frozen import POSTPROCESSOR_RAW, LoadedFrozenGraph
from compare.adapters.tf_saved_model import LoadedSavedModel
from compare.detections import DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path

LABELS_OPTION = 'labels=PATH|coco (default: label_map.pbtxt in the export folder or one up)'
DECODE_OPTION = ('decode=pil|tf (who decodes JPEG/PNG files: PIL, as for every detector, or '
                 'TensorFlow, as the OD API; default pil, tf for exports taking encoded images)')


class TFODAPIAdapter:
    """An OD API export behind the adapter interface
    (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name.
        path: what the user passed (see :mod:`~compare.adapters.tf_locate`).
        prefer: :data:`tf_locate.SAVED_MODEL` (``tf:``) or
            :data:`tf_locate.FROZEN` (``tf1:``), when a folder has both.
        labels: label map option (``'coco'``, a path, or None to look beside
            the model).
        decode: ``'pil'``, ``'tf'`` or None (the input type's default).
        note: where the model came from (recorded in ``info``).
        prepare: callable run first in ``load`` (e.g. fetching a zoo archive).
    """

    order = 'score'
    reads_files = True  # LoadedImage arrays: decode=tf and string inputs use the file bytes

    def __init__(self, name, path, prefer, labels=None, decode=None, note='', prepare=None):
        self.name, self.path, self.prefer, self.labels = name, path, prefer, labels
        self.decode, self.note, self.prepare = decode, note, prepare
        self.located = self.model = self.label_map = self.label_map_path = None
        self.label_names, self.device, self.threads, self.sha256 = {}, None, None, None
        self._tf = None

    def load(self):
        if self.prepare is not None:
            self.prepare()
        self.located = tf_locate.locate(self.path, self.prefer)
        export = self.located.export_dir
        search = [export, os.path.dirname(export)]
        if self.located.route == tf_locate.SAVED_MODEL:
            search.insert(1, self.located.model)
        self.label_map_path, self.label_map = tf_common.find_label_map(
            self.labels, search, self.path)
        self.label_names = self.label_map.names
        self._tf = tf_common.import_tensorflow()
        load = (LoadedSavedModel if self.located.route == tf_locate.SAVED_MODEL
                else LoadedFrozenGraph)
        self.model = load(self.located.model, self._tf)
        self.device, self.threads = tf_common.tf_runtime_info(self._tf)
        self.sha256 = tf_common.tree_sha256(self.located.model)

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        timer, detections = StageTimer(), [None] * len(images)
        for group in tf_inputs.groups(images, self.model.spec.max_batch):
            with timer('preprocess'):
                value, _ = tf_inputs.feed(self.model.spec, [images[i] for i in group],
                                          self.decode, self._tf)
            with timer('inference'):
                outputs = self.model.call(value)
            with timer('postprocess'):
                for row, index in enumerate(group):
                    detections[index] = tf_common.od_outputs_to_detections(
                        outputs['detection_boxes'][row], outputs['detection_classes'][row],
                        outputs['detection_scores'][row], outputs['num_detections'][row],
                        images[index].shape[:2], self.label_names)
        return Prediction(detections, timer.times)

    def check_candidates(self):
        """Raise UserError (at load, :mod:`compare.adapters.common_nms`) when
        the loaded export has no pre-NMS tensors."""
        if self.model.raw_fetches is None:
            raise UserError('{} has no pre-NMS tensors ({}, or {} of a TF1 SSD graph): '
                            '--common-nms cannot run on it; leave --common-nms out'.format(
                                self.model.where, ', '.join(tf_common.RAW_KEYS),
                                ', '.join(POSTPROCESSOR_RAW)))

    def candidates_source(self):
        """The tensors the candidates come from, in words (None before load)."""
        return getattr(self.model, 'raw_source', None)

    def predict_candidates(self, images):
        """Pre-NMS boxes and scores (``raw_detection_boxes``,
        ``raw_detection_scores``, or a TF1 graph's post-processor tensors;
        :mod:`compare.adapters.common_nms`): ``(list of Candidates, times)``."""
        timer, found = StageTimer(), [None] * len(images)
        for group in tf_inputs.groups(images, self.model.spec.max_batch):
            with timer('preprocess'):
                value, _ = tf_inputs.feed(self.model.spec, [images[i] for i in group],
                                          self.decode, self._tf)
            with timer('inference'):
                outputs = self.model.call_raw(value)
            with timer('postprocess'):
                for row, index in enumerate(group):
                    found[index] = tf_common.raw_to_candidates(
                        outputs['raw_detection_boxes'][row], outputs['raw_detection_scores'][row],
                        images[index].shape[:2], self.label_names)
        return found, timer.times

    def info(self):
        details = {'origin': self.note or self.path,
                   'label_map': display_path(self.label_map_path),
                   'label_ids': sorted(self.label_names)}
        if self.label_map is not None and self.label_map.duplicates:
            details['label_map_notes'] = self.label_map.notes()
        if self.model is not None:
            spec = self.model.spec
            details.update({
                'format': self.model.format, 'input': tf_inputs.describe(spec, self.decode),
                'pixels': tf_inputs.pixels_source(spec, self.decode),
                'batching': 'images of one size per call, at most {}'.format(
                    spec.max_batch) if spec.max_batch else 'images of one size per call'})
        model = self.located.model if self.located else self.path
        return DetectorInfo(
            self.name, getattr(self, 'weights_label', None) or display_path(model), self.sha256,
            False, self.device, self.threads,
            tuple(self.label_names[k] for k in sorted(self.label_names)), details)


def default_name(kind, arg):
    """``<kind>-<the export's folder name>``; a GraphDef file not named as the
    exporter names it (``frozen_inference_graph.pb``) gives its own stem."""
    base = os.path.basename(os.path.normpath(arg))
    if base.endswith('.pb') and base not in (tf_locate.FROZEN_NAME, 'saved_model.pb'):
        return '{}-{}'.format(kind, tf_common.slug(base))
    return '{}-{}'.format(kind, tf_common.slug(tf_locate.export_dir(arg)))


def _build(kind, prefer, arg, options):
    if not arg:
        raise UserError('{0} detector needs a path: {0}:path/to/export'.format(kind))
    packaged = packaged_models.named(arg) if kind == 'tf1' else None
    name = options.pop('name', '{}-{}'.format(kind, arg) if packaged else default_name(kind, arg))
    decode = tf_inputs.check_decode(options.pop('decode', None), '{}:{}'.format(kind, arg))
    labels = options.pop('labels', packaged.label_map if packaged else None)
    adapter = TFODAPIAdapter(name, arg, prefer, labels=labels, decode=decode)
    if packaged:
        # the packaged file is found and verified by SHA-256 when the detector loads
        adapter.note = 'packaged: ' + packaged.describe()
        adapter.weights_label = packaged.label(arg)
        adapter.prepare = lambda: setattr(adapter, 'path', packaged_models.path_of(packaged))
    return adapter


def build_tf(arg, options, settings):
    """``tf:PATH[,labels=PATH|coco][,decode=pil|tf][,name=NAME]``; PATH: an
    export folder (TF2, or TF1 with saved_model/), its saved_model/, or a file in it."""
    return _build('tf', tf_locate.SAVED_MODEL, arg, options)


def build_tf1(arg, options, settings):
    """``tf1:PATH[,labels=...][,decode=...][,name=NAME]``; PATH: a
    frozen_inference_graph.pb or the TF1 export folder holding it, or a
    packaged model's short name (:mod:`compare.adapters.packaged_models`)."""
    return _build('tf1', tf_locate.FROZEN, arg, options)
