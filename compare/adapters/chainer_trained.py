"""Adapter for a model trained by ``python -m replicate.train``: kind ``trained``.

``trained:PATH`` takes the ``model.npz`` (or a ``snapshot_iter_N.npz``) a
training run wrote. The file describes its own model (SSD300, SSD512 or the
small SSD, and its class names: :func:`replicate.train.snapshot.load_model`
rebuilds it; nothing in it is unpickled), so one kind serves every
architecture and class set the command trains.

# The model emits what ChainerCV's SSD300 emits: boxes (y_min, x_min, y_max,
# x_max) in pixels of the input image, labels 0-based over the file's class
# names, scores in [0, 1]; grouped by label, by descending score within one.

Stages as for ``ours`` (:mod:`compare.adapters.chainer_ssd`): preprocess
(``model._prepare``, stacking), inference (``model.forward``), postprocess
(``coder.decode``: decoding + per-class NMS, scaling to the image, clipping).
Option ``preset=visualize|evaluate`` (default: --preset; ``auto`` is
``evaluate``: the weights are trained).
"""
import os

import chainer
import numpy as np

from compare.adapters.protocol import StageTimer, numpy_threads
from compare.detections import Detections, DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path
from reporting.provenance import file_sha256

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

    def load(self):
        from replicate.errors import UserError as ReplicateUserError
        from replicate.train.snapshot import load_model
        if not os.path.isfile(self.path):
            raise UserError('{} not found: trained:PATH takes the model.npz (or a snapshot) '
                            'of python -m replicate.train'.format(self.path))
        try:
            self.model, self.meta = load_model(self.path)
        except ReplicateUserError as error:
            raise UserError(str(error)) from None
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
        return locs.array, confs.array, sizes

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
        box, label, score = model.coder.decode(loc, conf, model.nms_thresh, model.score_thresh)
        # (R, 4) yxyx in the insize x insize input -> yxyx in the original (H, W)
        scale = np.array([size[0], size[1], size[0], size[1]], np.float32) / model.insize
        names = self.label_names
        return Detections(box * scale, label, [names[i] for i in label], score).clipped(*size)

    def info(self):
        meta = self.meta or {}
        return DetectorInfo(
            name=self.name, weights=display_path(self.path), weights_sha256=self.weights_sha256,
            random_weights=False, device='CPU (@numpy)', threads=numpy_threads(),
            label_names=self.label_names,
            info={'library': 'replicate (this repository), trained by python -m replicate.train',
                  'model': meta.get('model'), 'iteration': meta.get('iteration'),
                  'preset': self.preset,
                  'score_thresh': getattr(self.model, 'score_thresh', None),
                  'nms_thresh': getattr(self.model, 'nms_thresh', None),
                  'stages': 'preprocess=_prepare, inference=forward, postprocess=decode+NMS',
                  'input': 'RGB, resized to {0}x{0}, mean subtracted'.format(
                      self.model.insize if self.model is not None else '?')})


def build(arg, options, settings):
    """``trained:PATH[,preset=P]``."""
    return TrainedSSDAdapter(options.pop('name', 'trained'), arg,
                             options.pop('preset', settings.get('preset', 'auto')))
