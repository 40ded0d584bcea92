"""Adapter for a model trained by ``python -m replicate.train``: kind ``trained``.

``trained:PATH`` takes the ``model.npz`` (or a ``snapshot_iter_N.npz``) a
training run wrote. The file describes its own model (SSD300, SSD512, the
small SSD, or an OD API SSD-MobileNetV2 fine-tuned from an export, and its
class names: :func:`replicate.train.snapshot.load_model` rebuilds it;
nothing in it is unpickled), so one kind serves every architecture and
class set the command trains.

# The model emits what ChainerCV's SSD300 emits: boxes (y_min, x_min, y_max,
# x_max) in pixels of the input image, labels 0-based over the file's class
# names, scores in [0, 1]; grouped by label, by descending score within one.
# An OD API model's ``detect`` emits boxes normalized to the image, ordered
# by descending score: scaled and regrouped here (stable: ties keep its order).

Stages as for ``ours`` (:mod:`compare.adapters.chainer_ssd`): preprocess
(``model._prepare``, stacking), inference (``model.forward``), postprocess
(``coder.decode``: decoding + per-class NMS, scaling to the image, clipping;
an OD API model: ``model.detect``, its pipeline.config's post-processing).
Option ``preset=visualize|evaluate`` (default: --preset; ``auto`` is
``evaluate``: the weights are trained); an OD API model has no presets: it
keeps its pipeline.config's thresholds and caps, and the info says so.
"""
import os

import chainer
import numpy as np

from compare.adapters.protocol import StageTimer, check_finite, numpy_threads
from compare.detections import Detections, DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path
from provenance.stamp import file_sha256

PRESETS = ('auto', 'visualize', 'evaluate')


class TrainedSSDAdapter:
    """A trained model file behind the adapter interface
    (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name.
        path: the model or snapshot file.
        preset: 'auto' (= 'evaluate'), 'visualize' or 'evaluate'.
    """
    order = 'class_then_score'

    def __init__(self, name, path, preset='auto'):
        if preset not in PRESETS:
            raise UserError('preset {!r} for {}: use one of {}'.format(
                preset, name, ', '.join(PRESETS)))
        if not path:
            raise UserError('detector {}: give the file, trained:PATH/model.npz (written by '
                            'python -m replicate.train)'.format(name))
        self.name, self.path = name, path
        self.preset = 'evaluate' if preset == 'auto' else preset
        self.model = self.meta = self.weights_sha256 = None
        self.odapi = False

    def load(self):
        from replicate.train.models import ODAPI
        from replicate.train.snapshot import load_model
        if not os.path.isfile(self.path):
            raise UserError('{} not found: trained:PATH takes the model.npz (or a snapshot) '
                            'of python -m replicate.train'.format(self.path))
        self.model, self.meta = load_model(self.path)  # a bad file: a UserError naming it
        broken = _not_finite(self.model)
        if broken:
            raise UserError('{} holds NaN or Inf values in {} array(s): {}; the file is corrupt '
                            '(or from a training that diverged)'.format(
                                self.path, len(broken), ', '.join(broken[:5])))
        self.odapi = self.meta['model'].get('arch') == ODAPI
        if not self.odapi:
            self.model.use_preset(self.preset)
        self.weights_sha256 = file_sha256(self.path)

    @property
    def label_names(self):
        return tuple(self.meta['label_names']) if self.meta else ()

    def _forward(self, images, timer):
        """Preprocess and forward: ``(locs, confs, sizes)``."""
        model = self.model
        with timer('preprocess'):
            sizes = [image.shape[:2] for image in images]
            # (H, W, 3) uint8 -> (3, H, W) float32 -> prepared (3, insize, insize)
            batch = model.xp.stack([model._prepare(image.transpose(2, 0, 1).astype(np.float32))
                                    for image in images])
        with timer('inference'):
            with chainer.using_config('train', False), chainer.no_backprop_mode():
                locs, confs = model.forward(batch)
        locs, confs = locs.array, confs.array
        check_finite(model.xp, locs, confs)
        return locs, confs, sizes

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        timer = StageTimer()
        locs, confs, sizes = self._forward(images, timer)
        with timer('postprocess'):
            detections = [self._decode(loc, conf, size)
                          for loc, conf, size in zip(locs, confs, sizes, strict=True)]
        return Prediction(detections, timer.times)

    def predict_candidates(self, images):
        """Every decoded box before NMS (:mod:`compare.adapters.common_nms`):
        ``(list of Candidates, times)``."""
        from compare.adapters.common_nms import Candidates
        timer = StageTimer()
        locs, confs, _ = self._forward(images, timer)
        names = self.label_names
        found = []
        with timer('postprocess'):
            for loc, conf in zip(locs, confs, strict=True):
                if self.odapi:
                    boxes, score = odapi_candidates(self.model, loc, conf)
                    found.append(Candidates(boxes, score, tuple(range(len(names))), names))
                    continue
                # (K, 4) yxyx in the insize x insize input -> normalized to the image
                boxes = self.model.coder.decode_boxes(loc) / self.model.insize
                # softmax as the coder computes it; column 0 is the background
                score = np.exp(conf)
                score /= score.sum(axis=1, keepdims=True)
                found.append(Candidates(boxes, score[:, 1:], tuple(range(len(names))), names))
        return found, timer.times

    def _decode(self, loc, conf, size):
        """Decoded boxes of one image, scaled from insize x insize to ``size``, clipped."""
        model = self.model
        if self.odapi:
            box, label, score = odapi_detections(model, loc, conf, size)
            names = self.label_names
            return Detections(box, label, [names[i] for i in label], score).clipped(*size)
        box, label, score = model.coder.decode(loc, conf, model.nms_thresh, model.score_thresh)
        # (R, 4) yxyx in the insize x insize input -> yxyx in the original (H, W)
        scale = np.array([size[0], size[1], size[0], size[1]], np.float32) / model.insize
        names = self.label_names
        return Detections(box * scale, label, [names[i] for i in label], score).clipped(*size)

    def info(self):
        meta = self.meta or {}
        details = {
            'library': 'replicate (this repository), trained by python -m replicate.train',
            'model': meta.get('model'), 'iteration': meta.get('iteration'),
            'preset': self.preset,
            'score_thresh': getattr(self.model, 'score_thresh', None),
            'nms_thresh': getattr(self.model, 'nms_thresh', None),
            'stages': 'preprocess=_prepare, inference=forward, postprocess=decode+NMS',
            'input': 'RGB, resized to {0}x{0}, mean subtracted'.format(
                self.model.insize if self.model is not None else '?')}
        if self.odapi:
            details.update(odapi_details(self.model))
        return DetectorInfo(
            name=self.name, weights=display_path(self.path), weights_sha256=self.weights_sha256,
            random_weights=False, device='CPU (@numpy)', threads=numpy_threads(),
            label_names=self.label_names, info=details)


def odapi_detections(model, loc, conf, size):
    """An OD API model's detections of one image (its ``detect``) in
    :class:`Detections`' order: ``(boxes, labels, scores)``, boxes in pixels
    of an image of ``size`` (H, W)."""
    from replicate.odapi.ssd import to_pixels
    out = model.detect(loc, conf)
    # by descending score -> by label, then descending score (stable sort)
    order = np.lexsort((-out['scores'], out['classes']))
    return to_pixels(out['boxes'][order], size), out['classes'][order], out['scores'][order]


def odapi_candidates(model, loc, conf):
    """An OD API model's decoded boxes (K, 4), normalized to the image
    (the resizer stretches it to the input), and foreground scores (K, C),
    converted as its post-processing converts them."""
    from replicate.odapi import postprocess
    pp = model.config.post_processing
    boxes = model.coder.decode(model.coder.xp.asarray(loc))
    scores = postprocess.convert_scores(conf, pp.score_converter, pp.logit_scale)
    return boxes, scores[:, 1:]


def odapi_details(model):
    """What replaces the presets for an OD API model (its pipeline.config's)."""
    pp = model.config.post_processing if model is not None else None
    return {'preset': 'none (an OD API model: its pipeline.config post-processing)',
            'score_thresh': pp and float(np.float32(pp.score_threshold)),
            'nms_thresh': pp and float(np.float32(pp.iou_threshold)),
            'score_converter': pp and pp.score_converter,
            'max_detections_per_class': pp and pp.max_detections_per_class,
            'max_total_detections': pp and pp.max_total_detections,
            'stages': 'preprocess=_prepare (normalize to [-1, 1], TF1 bilinear resize), '
                      'inference=forward, postprocess=detect (decode, score converter, '
                      'per-class NMS)',
            'input': 'RGB, [-1, 1], resized to {}x{}'.format(
                *(model.image_size if model is not None else ('?', '?')))}


def _not_finite(model):
    """Names of the parameters and persistent arrays (batch norm statistics) of
    ``model`` that hold NaN or Inf, sorted."""
    found = [name for name, param in model.namedparams()
             if param.array is not None and not np.isfinite(param.array).all()]
    for path, link in model.namedlinks():
        for key in link._persistent:
            value = getattr(link, key)
            if (isinstance(value, np.ndarray) and value.dtype.kind == 'f'
                    and not np.isfinite(value).all()):
                found.append(path + '/' + key)
    return sorted(found)


def build(arg, options, settings):
    """``trained:PATH[,preset=P]``."""
    return TrainedSSDAdapter(options.pop('name', 'trained'), arg,
                             options.pop('preset', settings.get('preset', 'auto')))
