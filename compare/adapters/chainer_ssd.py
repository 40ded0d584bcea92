"""Adapter for the two Chainer SSD300 implementations, ``ours`` and ``chainercv``,
and for ``ours-onnx``: our SSD300 with its network run by ONNX Runtime on the
CPU (:mod:`replicate.ort`: exported with onnx_chainer at load, the same weights;
preprocessing, decoding and NMS stay ours), to see the fast path side by side;
``ours-openvino``: the same export run by OpenVINO (:mod:`replicate.ov`); and
``ours-int8``: that export quantized to int8 at load (static post-training
quantization, calibrated on :data:`CALIBRATION` generated images, stated in
the info), run by ``engine=openvino`` (NNCF + OpenVINO, the default: the faster
int8 path measured in reports/bench/) or ``engine=onnx`` (ONNX Runtime's tools).

Both expose ChainerCV's API: ``SSD300(n_fg_class=20)``, ``use_preset``,
``_prepare(chw_float_image)``, ``forward(x)``,
``coder.decode(loc, conf, nms_thresh, score_thresh)``, ``insize``.

# SSD300 emits: boxes (y_min, x_min, y_max, x_max) in pixels of the input
# image, labels 0-based over the 20 VOC classes, scores in [0, 1]; grouped
# by label (ascending), by descending score within a label.

Stages are timed by calling those public pieces in ``predict``'s order,
instead of ``model.predict`` (which does all three at once):

- preprocess: HWC uint8 -> CHW float32, ``model._prepare`` (resize to 300x300
  with the backend ``chainer.config.cv_resize_backend`` selects, mean
  subtraction), stacking into a batch;
- inference: ``model.forward`` (train=False, no backprop);
- postprocess: ``coder.decode`` (box decoding + per-class NMS), scaling the
  boxes from 300x300 back to the original size, and clipping them to the
  image (``predict`` of both libraries leaves boxes that extend past the
  border unclipped; the common format does not, :mod:`compare.detections`).

``tests/compare/test_adapters_chainer.py`` checks this equals ``model.predict``.
"""
import sys

import chainer
import numpy as np

from compare.adapters import chainer_weights
from compare.adapters.protocol import StageTimer, check_finite, numpy_threads
from compare.detections import Detections, DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path
from provenance.stamp import file_sha256

#: The 20 PASCAL VOC classes of the SSD300s, in ChainerCV's order
#: (``chainercv.datasets.voc_bbox_label_names``; label id = index).
VOC_NAMES = (
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
    'train', 'tvmonitor')
PRESETS = ('auto', 'visualize', 'evaluate')
_IMAGENET_NOTE = ('imagenet weights cover the VGG-16 base only; the other layers keep the '
                  "library's UNSEEDED random initialisation, so runs are not reproducible")


def _ours():
    from replicate import SSD300
    return SSD300(n_fg_class=len(VOC_NAMES))


def _chainercv():
    from chainercv.links import SSD300
    return SSD300(n_fg_class=len(VOC_NAMES))


#: kind -> (module recorded as the library, model builder).
MODELS = {'ours': ('replicate', _ours), 'chainercv': ('chainercv', _chainercv),
          'ours-onnx': ('onnxruntime', _ours), 'ours-openvino': ('openvino', _ours),
          'ours-int8': ('openvino', _ours)}
#: ``ours-int8`` engines; the first is the default.
INT8_ENGINES = ('openvino', 'onnx')
#: ``ours-int8`` calibration: this many generated images (seed 1, 375x500:
#: noise and shapes alternately, replicate.parity.inputs.generated_images).
CALIBRATION = 16


def _onnx_runtime(model):
    """``model`` exported to ONNX Runtime (:class:`replicate.ort.runtime.OnnxSSD`)."""
    try:
        from replicate.ort.runtime import OnnxSSD
        return OnnxSSD(model)
    except ImportError as exc:
        raise UserError('ours-onnx needs onnx<1.19 and onnxruntime ({}: {}); the project pins '
                        'both'.format(type(exc).__name__, exc)) from exc


def _engine_runtime(model, kind, engine):
    """``(runtime, description)`` for ``ours-openvino`` / ``ours-int8``."""
    try:
        if kind == 'ours-openvino':
            from replicate.ov.runtime import OpenVinoSSD
            return OpenVinoSSD(model), 'OpenVINO float32 (export of ours, onnx_chainer)'
        from replicate.ort.export import export_ssd
        from replicate.ort.quantize import calibration_inputs
        from replicate.parity.inputs import generated_images
        proto = export_ssd(model)
        inputs = calibration_inputs(model, generated_images(CALIBRATION, 1, ((375, 500),)))
        if engine == 'onnx':
            from replicate.ort.quantize import quantize
            from replicate.ort.runtime import OnnxSSD
            data, facts = quantize(proto, inputs)
            runtime = OnnxSSD(model, proto=data)
        else:
            from replicate.ov.quantize import quantize
            from replicate.ov.runtime import OpenVinoSSD
            network, facts = quantize(OpenVinoSSD(model, network=proto).network, inputs)
            runtime = OpenVinoSSD(model, network=network)
    except ImportError as exc:
        raise UserError('{} needs OpenVINO/NNCF or onnxruntime ({}: {}); install the '
                        "project's openvino extra (pip install .[openvino])".format(
                            kind, type(exc).__name__, exc)) from exc
    return runtime, 'int8 ({}; {}; calibrated on {} generated images, seed 1)'.format(
        engine, facts['tool'], facts['calibration_images'])


class ChainerSSDAdapter:
    """One Chainer SSD300 behind the adapter interface (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name.
        kind: ``'ours'`` or ``'chainercv'`` (:data:`MODELS`).
        choice: :class:`compare.adapters.chainer_weights.WeightChoice`.
        preset: ``'visualize'`` (score >= 0.6), ``'evaluate'`` (>= 0.01), or
            ``'auto'``: evaluate for trained weights, visualize for random
            ones (random weights pass 0.01 everywhere and NMS then takes ~17 s
            per image); the chosen one is recorded in ``info``.
    """
    order = 'class_then_score'

    def __init__(self, name, kind, choice, preset='auto', keep_raw=False, engine=None):
        if preset not in PRESETS:
            raise UserError('preset {!r} for {}: use one of {}'.format(
                preset, name, ', '.join(PRESETS)))
        if engine is not None and (kind != 'ours-int8' or engine not in INT8_ENGINES):
            raise UserError('engine={} for {}: only ours-int8 takes engine=, one of {}'.format(
                engine, name, '|'.join(INT8_ENGINES)))
        self.engine = engine or INT8_ENGINES[0]
        self.runtime_note = None
        self.name, self.kind, self.choice, self.preset_option = name, kind, choice, preset
        self.keep_raw = keep_raw
        self.model = self.path = self.preset = self.params_sha256 = None
        self.weights_sha256 = self.runtime = None

    def load(self):
        self.model = MODELS[self.kind][1]()
        self.path = chainer_weights.fill(self.model, self.choice)
        if self.path is not None:
            self.weights_sha256 = file_sha256(self.path)
        self.preset = self.preset_option
        if self.preset == 'auto':
            self.preset = 'visualize' if self.choice.random_weights else 'evaluate'
        self.model.use_preset(self.preset)
        self.params_sha256 = chainer_weights.params_sha256(self.model)
        if self.kind == 'ours-onnx':
            self.runtime = _onnx_runtime(self.model)
        elif self.kind in ('ours-openvino', 'ours-int8'):
            self.runtime, self.runtime_note = _engine_runtime(self.model, self.kind,
                                                              self.engine)

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`
        (with the network's outputs in ``raw`` when ``keep_raw``)."""
        timer = StageTimer()
        locs, confs, sizes = self._forward(images, timer)
        with timer('postprocess'):
            detections = [self._decode(loc, conf, size)
                          for loc, conf, size in zip(locs, confs, sizes, strict=True)]
        raw = None
        if self.keep_raw:
            to_cpu = chainer.backends.cuda.to_cpu
            raw = [{'locs': to_cpu(loc), 'confs': to_cpu(conf), 'size': size,
                    'insize': self.model.insize}
                   for loc, conf, size in zip(locs, confs, sizes, strict=True)]
        return Prediction(detections, timer.times, raw)

    def predict_candidates(self, images):
        """Every decoded box before NMS (:mod:`compare.adapters.common_nms`):
        ``(list of Candidates, times)``."""
        from compare.adapters.common_nms import Candidates
        timer = StageTimer()
        locs, confs, _ = self._forward(images, timer)
        found = []
        with timer('postprocess'):
            for loc, conf in zip(locs, confs, strict=True):
                loc, conf = (chainer.backends.cuda.to_cpu(a) for a in (loc, conf))
                # (K, 4) yxyx in the insize x insize input -> normalized to the image
                boxes = self._coder().decode_boxes(loc) / self.model.insize
                # softmax as the coder computes it; column 0 is the background
                score = np.exp(conf)
                score /= score.sum(axis=1, keepdims=True)
                found.append(Candidates(boxes, score[:, 1:], tuple(range(len(VOC_NAMES))),
                                        VOC_NAMES))
        return found, timer.times

    def _coder(self):
        if getattr(self, '_replicate_coder', None) is None:
            from replicate.ssd.ssd300 import ssd300_coder
            self._replicate_coder = ssd300_coder()
        return self._replicate_coder

    def _forward(self, images, timer):
        """Preprocess and forward: ``(locs, confs, sizes)`` on the model's device."""
        model = self.model
        with timer('preprocess'):
            sizes = [image.shape[:2] for image in images]
            # (H, W, 3) uint8 -> (3, H, W) float32 -> prepared (3, 300, 300)
            batch = [model._prepare(image.transpose(2, 0, 1).astype(np.float32))
                     for image in images]
            batch = model.xp.stack([model.xp.asarray(x) for x in batch])
        with timer('inference'):
            if self.runtime is not None:
                locs, confs = self.runtime.forward(batch)
            else:
                with chainer.using_config('train', False), chainer.no_backprop_mode():
                    locs, confs = model.forward(batch)
                locs, confs = locs.array, confs.array
        check_finite(model.xp, locs, confs)
        return locs, confs, sizes

    def _decode(self, loc, conf, size):
        """Decoded boxes of one image, scaled from insize x insize to ``size``, clipped."""
        model = self.model
        box, label, score = model.coder.decode(loc, conf, model.nms_thresh, model.score_thresh)
        box, label, score = (chainer.backends.cuda.to_cpu(a) for a in (box, label, score))
        # (R, 4) yxyx in the 300x300 input -> yxyx in the original (H, W)
        scale = np.array([size[0], size[1], size[0], size[1]], np.float32) / model.insize
        return Detections(box * scale, label, [VOC_NAMES[i] for i in label], score).clipped(*size)

    def info(self):
        library = MODELS[self.kind][0]
        loaded = sys.modules.get(library)
        return DetectorInfo(
            name=self.name, weights=self.choice.weights, weights_sha256=self.weights_sha256,
            random_weights=self.choice.random_weights,
            device='CPU (@numpy)' if self.runtime is None else 'CPU ({})'.format(
                {'ours-onnx': 'ONNX Runtime', 'ours-openvino': 'OpenVINO'}.get(
                    self.kind, 'int8, {}, calibrated on {} generated images'.format(
                        self.engine, CALIBRATION))),
            threads=numpy_threads(), label_names=VOC_NAMES,
            info={'library': '{} {}'.format(library, getattr(loaded, '__version__',
                                                             '(this repository)')),
                  'preset': self.preset,
                  'score_thresh': getattr(self.model, 'score_thresh', None),
                  'nms_thresh': getattr(self.model, 'nms_thresh', None),
                  'weights_path': display_path(self.path), 'seed': self.choice.seed,
                  'params_sha256': self.params_sha256,
                  'weights_choice': self.choice.note, 'keep_raw': self.keep_raw,
                  'stages': 'preprocess=_prepare, inference={}, postprocess=decode+NMS'.format(
                      'forward' if self.runtime is None else
                      '{}, {} threads'.format(self.runtime_note or 'ONNX Runtime (export of '
                                              'ours, onnx_chainer)', self.runtime.threads)),
                  'input': 'RGB, resized to 300x300, mean subtracted',
                  'model_info': self.model.info() if hasattr(self.model, 'info') else None,
                  'imagenet_note': (_IMAGENET_NOTE if self.choice.source == 'imagenet'
                                    else None)})


def build(kind, arg, options, settings):
    """``ours[:WEIGHTS][,preset=P]`` / ``chainercv[...]`` / ``ours-onnx[...]`` /
    ``ours-openvino[...]`` / ``ours-int8[...][,engine=openvino|onnx]``."""
    return ChainerSSDAdapter(options.pop('name', kind), kind, chainer_weights.choose(arg),
                             options.pop('preset', settings.get('preset', 'auto')),
                             keep_raw=bool(settings.get('keep_raw')),
                             engine=options.pop('engine', None) if kind == 'ours-int8' else None)
