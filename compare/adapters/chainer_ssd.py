"""Adapter for the two Chainer SSD300 implementations: ``ours`` and ``chainercv``.

Both expose ChainerCV's API: ``SSD300(n_fg_class=20, pretrained_model=...)``,
``use_preset``, ``_prepare(chw_float_image)``, ``forward(x)``,
``coder.decode(loc, conf, nms_thresh, score_thresh)``, ``insize``.

# SSD300 emits: boxes (y_min, x_min, y_max, x_max) in pixels of the input
# image, labels 0-based over the 20 VOC classes, scores in [0, 1].

Stages are timed by calling those public pieces in ``predict``'s order,
instead of ``model.predict`` (which does all three at once):

- preprocess: HWC uint8 -> CHW float32, ``model._prepare`` (resize to 300x300,
  mean subtraction), stacking into a batch;
- inference: ``model.forward`` (train=False, no backprop);
- postprocess: ``coder.decode`` (box decoding + per-class NMS) and scaling the
  boxes from 300x300 back to the original size.

``tests/compare/test_adapters_chainer.py`` checks this equals ``model.predict``.
"""
import numpy as np

from compare import chainer_weights
from compare.adapters.base import Prediction, StageTimer, numpy_threads
from compare.classmap import VOC_NAMES
from compare.detections import Detections
from compare.errors import UserError
from compare.paths import display_path

PRESETS = ('auto', 'visualize', 'evaluate')
_IMAGENET_NOTE = ('imagenet weights cover the VGG-16 base only; the other layers keep the '
                  "library's UNSEEDED random initialisation, so runs are not reproducible")


class ChainerSSDAdapter:
    """One Chainer SSD300 behind the adapter interface (see ``base``).

    Args:
        name: detector name.
        model_class: callable ``(n_fg_class, pretrained_model) -> model``
            (imported lazily by the builder, so it is given here).
        weights: weight spec (see :mod:`compare.chainer_weights`).
        preset: ``'visualize'`` (score >= 0.6), ``'evaluate'`` (>= 0.01), or
            ``'auto'``: evaluate for trained weights, visualize for random
            ones (random weights pass 0.01 everywhere and NMS then takes ~17 s
            per image); the chosen one is recorded in ``info``.
        library: text recorded in ``info`` (module and version).
        weights_default_note: why these weights were chosen, if by default.
    """

    def __init__(self, name, model_class, weights, preset='auto', library='', note=''):
        if preset not in PRESETS:
            raise UserError('preset {!r} for {}: use one of {}'.format(
                preset, name, ', '.join(PRESETS)))
        self.name, self.model_class, self.weights_spec = name, model_class, weights
        self.preset_option, self.library, self.note = preset, library, note
        self.model, self.weights, self.preset, self.params_sha256 = None, None, None, None

    def load(self):
        self.weights = chainer_weights.resolve(self.weights_spec)
        pretrained = self.weights['path']
        if self.weights['kind'] == 'pretrained':
            pretrained = self.weights_spec  # let the library load its own named file
        self.model = self.model_class(n_fg_class=len(VOC_NAMES), pretrained_model=pretrained)
        if self.weights['random_weights']:
            chainer_weights.fill_random(self.model, self.weights['seed'])
        self.preset = self.preset_option
        if self.preset == 'auto':
            self.preset = 'visualize' if self.weights['random_weights'] else 'evaluate'
        self.model.use_preset(self.preset)
        self.params_sha256 = chainer_weights.params_sha256(self.model)

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        import chainer
        model, timer = self.model, StageTimer()
        with timer('preprocess'):
            sizes = [image.shape[:2] for image in images]
            # (H, W, 3) uint8 -> (3, H, W) float32 -> prepared (3, 300, 300)
            batch = [model._prepare(image.transpose(2, 0, 1).astype(np.float32))
                     for image in images]
            batch = model.xp.stack([model.xp.asarray(x) for x in batch])
        with timer('inference'):
            with chainer.using_config('train', False), chainer.no_backprop_mode():
                locs, confs = model.forward(batch)
            locs, confs = locs.array, confs.array
        with timer('postprocess'):
            detections = [self._decode(loc, conf, size)
                          for loc, conf, size in zip(locs, confs, sizes, strict=True)]
        return Prediction(detections, timer.times)

    def _decode(self, loc, conf, size):
        """Decoded boxes of one image, scaled from insize x insize to ``size``."""
        import chainer
        model = self.model
        box, label, score = model.coder.decode(loc, conf, model.nms_thresh, model.score_thresh)
        box, label, score = (chainer.backends.cuda.to_cpu(a) for a in (box, label, score))
        # (R, 4) yxyx in the 300x300 input -> yxyx in the original (H, W)
        scale = np.array([size[0], size[1], size[0], size[1]], np.float32) / model.insize
        names = [VOC_NAMES[i] for i in label]
        return Detections(box * scale, label, names, score)

    def info(self):
        weights = self.weights or {}
        return {
            'name': self.name, 'weights': weights.get('weights', self.weights_spec),
            'weights_sha256': weights.get('weights_sha256'),
            'random_weights': weights.get('random_weights'),
            'device': 'CPU (@numpy)', 'threads': numpy_threads(),
            'label_names': list(VOC_NAMES),
            'info': {'library': _library_version(self.library), 'preset': self.preset,
                     'score_thresh': getattr(self.model, 'score_thresh', None),
                     'nms_thresh': getattr(self.model, 'nms_thresh', None),
                     'weights_path': display_path(weights.get('path')), 'seed': weights.get('seed'),
                     'params_sha256': self.params_sha256,
                     'weights_choice': self.note or 'given on the command line',
                     'stages': 'preprocess=_prepare, inference=forward, postprocess=decode+NMS',
                     'input': 'RGB, resized to 300x300, mean subtracted',
                     'model_info': self.model.info() if hasattr(self.model, 'info') else None,
                     'imagenet_note': _IMAGENET_NOTE if self.weights_spec == 'imagenet' else None},
        }


def _library_version(module):
    import sys
    loaded = sys.modules.get(module)
    return '{} {}'.format(module, getattr(loaded, '__version__', '(this repository)'))


def build_chainercv(arg, options, settings=None):
    """``chainercv[:WEIGHTS][,preset=P]`` -> adapter for ``chainercv.links.SSD300``."""
    def model_class(**kwargs):
        from chainercv.links import SSD300
        return SSD300(**kwargs)
    return _build('chainercv', model_class, 'chainercv', arg, options, settings)


def build_ours(arg, options, settings=None):
    """``ours[:WEIGHTS][,preset=P]`` -> adapter for ``replicate.SSD300``."""
    def model_class(**kwargs):
        try:
            from replicate import SSD300
        except ImportError as exc:
            raise UserError('replicate.SSD300 is not importable ({})'.format(exc)) from None
        return SSD300(**kwargs)
    return _build('ours', model_class, 'replicate', arg, options, settings)


def _build(kind, model_class, module, arg, options, settings):
    note = ''
    if not arg:
        arg = chainer_weights.default_spec()
        note = ('DEFAULT: voc0712 cached' if arg == 'voc0712' else
                'DEFAULT FALLBACK: voc0712 not cached at {}, so RANDOM weights (seed 0); '
                'detections are meaningless for accuracy'.format(
                    chainer_weights.cached_pretrained_path('voc0712')))
    name = options.pop('name', kind)
    preset = options.pop('preset', (settings or {}).get('preset', 'auto'))
    return ChainerSSDAdapter(name, model_class, arg, preset, library=module, note=note)
