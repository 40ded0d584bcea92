"""Adapter for our Chainer port of an OD API SSD-MobileNetV2 export: kind ``ours-odapi``.

``ours-odapi:EXPORT_DIR`` runs :class:`replicate.odapi.SSDMobileNetV2` built
from the export's ``pipeline.config`` and filled, strictly by name, from its
variables (``saved_model/variables`` or ``checkpoint/ckpt-N``); ``tf:EXPORT_DIR``
runs the same export in TensorFlow. Given both, one run sets the two
frameworks against each other on one network and one set of weights.
``ours-odapi:GRAPH.pb`` (or its folder, or a packaged short name such as
``ssdlite-person``) runs a TF1 frozen graph in the port
(:mod:`compare.adapters.odapi_frozen`), the network ``tf1:`` runs in TensorFlow.

# The port emits (``detect``): boxes normalized (y_min, x_min, y_max, x_max)
# clipped to [0, 1], classes 0-based, scores by descending score, as the
# export's post-processing does. They are converted here exactly as the TF
# adapters convert the export's outputs (class + 1 is the label map id;
# :func:`compare.adapters.tf_common.od_outputs_to_detections`), so the two
# detectors' detections and names are comparable one to one.

Stages, in ``predict``'s order (the export's signature cannot be split, so
TF's ``inference`` holds its own resize and NMS; ours are separate):

- preprocess: HWC uint8 -> CHW, the port's ``_prepare`` (pixels to [-1, 1],
  TF1 bilinear resize to the ``fixed_shape_resizer`` size, numpy), stacking
  the batch and sending it to the device;
- inference: ``model.forward`` (train=False, no backprop), the whole batch in
  one call, waited for on a GPU;
- postprocess: ``model.detect`` per image (box decoding on the device; score
  conversion and per-class NMS in numpy on the host), pixels and names.

Options: ``labels=PATH|coco`` (default: ``label_map.pbtxt`` in the export
folder, read by :mod:`compare.adapters.label_map`), ``device=@numpy|@cupy:N``
(default ``@numpy``).
"""
import hashlib
import os
import re

import numpy as np

from compare.adapters import odapi_frozen, packaged_models, tf_common, tf_finite
from compare.adapters.protocol import StageTimer, check_finite, numpy_threads
from compare.detections import DetectorInfo, Prediction
from compare.errors import UserError
from compare.paths import display_path
from provenance.stamp import file_sha256

_DEVICE = re.compile(r'^@numpy$|^@cupy:\d+$')
STAGES_NOTE = ('preprocess=_prepare (normalize, TF1 bilinear resize; numpy) + stack, '
               'inference=forward (one call per batch), postprocess=detect (decode, score '
               'converter, per-class NMS on the host)')


def checkpoint_sha256(prefix):
    """sha256 over the files of a TF checkpoint (``prefix.index``,
    ``prefix.data-*``): sorted (file name, file sha256) lines."""
    folder, stem = os.path.split(prefix)
    digest = hashlib.sha256()
    for name in sorted(f for f in os.listdir(folder) if f.startswith(stem + '.')):
        digest.update('{}\0{}\n'.format(name, file_sha256(os.path.join(folder, name))).encode())
    return digest.hexdigest()


def _use_device(spec, owner):
    """The Chainer device of ``spec``, made current; UserError if unusable here."""
    import chainer

    from replicate.parity.cli import check_device
    try:
        check_device(spec)
    except UserError as exc:  # it words the parity tool's flag; here it is an option
        message = str(exc).replace('--device ', 'device=')
        raise UserError('detector {}: {}'.format(owner, message)) from None
    device = chainer.get_device(spec)
    device.use()
    return device


def _float32(value):
    """A float32 config value as its shortest decimal (1e-08, not 9.99999993922529e-09)."""
    return float(np.format_float_scientific(np.float32(value), unique=True))


def _describe(device):
    """``(device, threads)`` in words, as meta.json records them."""
    if device.xp is np:
        return 'CPU (@numpy)', numpy_threads()
    import cupy
    index = device.device.id
    name = cupy.cuda.runtime.getDeviceProperties(index)['name']
    name = name.decode() if isinstance(name, bytes) else name
    return ('GPU @cupy:{} ({})'.format(index, name),
            'CUDA, CuPy {}; NMS on the host: {}'.format(cupy.__version__, numpy_threads()))


class ChainerODAPIAdapter:
    """Our SSD-MobileNetV2 port of an OD API export behind the adapter
    interface (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name.
        path: the export folder (``pipeline.config`` and ``saved_model/`` or
            ``checkpoint/``).
        labels: label map option (``'coco'``, a path, or None: the export's
            ``label_map.pbtxt``).
        device: ``'@numpy'`` or ``'@cupy:N'``.
        packaged: a :class:`compare.adapters.packaged_models.PackagedModel`
            (then ``path`` is its short name until ``load`` finds the file).
    """
    order = 'score'

    def __init__(self, name, path, labels=None, device='@numpy', packaged=None):
        if not _DEVICE.match(device):
            raise UserError('device={} for detector {}: use device=@numpy or device=@cupy:N'
                            .format(device, name))
        self.name, self.path, self.labels, self.device_spec = name, path, labels, device
        self.packaged, self.frozen, self.packaged_name = packaged, False, path
        self.model = self.device = self.synchronize = self.prefix = self.label_map_path = None
        self.weights_sha256 = self.saved_model_sha256 = self.config_sha256 = None
        self.label_names, self.described = {}, ('CPU (@numpy)' if device == '@numpy'
                                                else device, None)

    def load(self):
        from replicate.odapi.frozen_ssd import is_frozen_graph
        if self.packaged is not None:
            self.path = packaged_models.path_of(self.packaged)
        self.frozen = os.path.exists(self.path) and is_frozen_graph(self.path)
        if not os.path.isdir(self.path) and not self.frozen:
            raise UserError('{} is not a folder or a .pb file: ours-odapi takes an OD API '
                            'TF2 export folder (pipeline.config, saved_model/) or a TF1 '
                            'frozen_inference_graph.pb (or its folder)'.format(self.path))
        folder = self.path if os.path.isdir(self.path) else os.path.dirname(self.path)
        self.label_map_path, label_map = tf_common.find_label_map(
            self.labels, [os.path.abspath(folder)], self.path)
        self.label_names = label_map.names
        tf = tf_common.import_tensorflow()  # TF's checkpoint reader / protobuf classes
        from replicate.bench.clock import synchronizer
        from replicate.odapi import SSDMobileNetV2, checkpoint
        self.device = _use_device(self.device_spec, self.name)
        self.synchronize = synchronizer(self.device)
        if self.frozen:
            self.model, self.prefix, self.weights_sha256, self.config_sha256 = \
                odapi_frozen.load(self.path)
            self.model.to_device(self.device)
            self.described = _describe(self.device)
            return
        model = SSDMobileNetV2.from_export(self.path)
        model.to_device(self.device)
        self.model = model
        self.prefix = checkpoint.find_variables(self.path)
        tf_finite.check_checkpoint(tf, self.prefix, 'export ' + self.path)
        self.weights_sha256 = checkpoint_sha256(self.prefix)
        self.config_sha256 = file_sha256(os.path.join(self.path, 'pipeline.config'))
        saved_model = os.path.join(self.path, 'saved_model')
        if os.path.isfile(os.path.join(saved_model, 'saved_model.pb')):
            self.saved_model_sha256 = tf_common.tree_sha256(saved_model)
        self.described = _describe(self.device)

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        model, timer = self.model, StageTimer()
        locs, confs = self._forward(images, timer)
        with timer('postprocess'):
            detections = [self._convert(model.detect(loc, conf), image.shape[:2])
                          for loc, conf, image in zip(locs, confs, images, strict=True)]
        return Prediction(detections, timer.times)

    def predict_candidates(self, images):
        """Every decoded box and its converted scores before NMS
        (:mod:`compare.adapters.common_nms`): ``(list of Candidates, times)``."""
        from chainer.backends import cuda

        from replicate.odapi import postprocess
        model, timer = self.model, StageTimer()
        locs, confs = self._forward(images, timer)
        pp, found = model.config.post_processing, []
        with timer('postprocess'):
            for loc, conf, image in zip(locs, confs, images, strict=True):
                decoded = cuda.to_cpu(model.coder.decode(model.coder.xp.asarray(loc)))
                scores = postprocess.convert_scores(cuda.to_cpu(conf), pp.score_converter,
                                                    pp.logit_scale)
                found.append(tf_common.raw_to_candidates(decoded, scores, image.shape[:2],
                                                         self.label_names))
        return found, timer.times

    def _forward(self, images, timer):
        """Preprocess and forward: ``(locs, confs)`` of the batch, on the device."""
        import chainer
        model = self.model
        with timer('preprocess'):
            # (H, W, 3) uint8 -> (3, H, W) -> prepared float32 (3, h, w) in [-1, 1]
            batch = model.xp.stack([self.device.send(model._prepare(image.transpose(2, 0, 1)))
                                    for image in images])
        with timer('inference'):
            with chainer.using_config('train', False), chainer.no_backprop_mode():
                locs, confs = model.forward(batch)
            locs, confs = locs.array, confs.array
            self.synchronize()
        check_finite(model.xp, locs, confs)
        return locs, confs

    def _convert(self, out, size):
        """The port's detections of one image -> :class:`Detections` in pixels."""
        classes = out['classes'] + 1  # 0-based foreground class -> label map id
        return tf_common.od_outputs_to_detections(out['boxes'], classes, out['scores'],
                                                  len(classes), size, self.label_names)

    def info(self):
        config = self.model.config if self.model is not None else None
        device, threads = self.described
        details = {
            'library': 'replicate.odapi (this repository), Chainer',
            'network': 'SSD-MobileNetV2 (OD API ssd_mobilenet_v2_keras) ported to Chainer',
            'export': display_path(self.path),
            'pipeline_config_sha256': self.config_sha256,
            'saved_model_sha256': self.saved_model_sha256,
            'label_map': display_path(self.label_map_path),
            'label_ids': sorted(self.label_names),
            'stages': STAGES_NOTE,
            'batching': 'the whole batch in one forward',
        }
        if self.frozen:
            details.pop('saved_model_sha256')
            details.update(odapi_frozen.details(self.model, self.weights_sha256))
        if self.packaged is not None:
            details['origin'] = 'packaged: ' + self.packaged.describe()
        if config is not None:
            pp = config.post_processing
            details.update({
                'image_size': '{}x{}'.format(*config.image_size),
                'num_classes': config.num_classes, 'anchors': len(self.model.coder.anchors),
                'score_converter': pp.score_converter,
                'score_threshold': _float32(pp.score_threshold),
                'iou_threshold': _float32(pp.iou_threshold),
                'max_detections_per_class': pp.max_detections_per_class,
                'max_total_detections': pp.max_total_detections})
        return DetectorInfo(
            self.name, self.packaged.label(self.packaged_name) if self.packaged else
            display_path(self.prefix or self.path), self.weights_sha256, False,
            device, threads, tuple(self.label_names[k] for k in sorted(self.label_names)),
            details)


def build(arg, options, settings):
    """``ours-odapi:PATH[,labels=PATH|coco][,device=@numpy|@cupy:N][,name=NAME]``;
    PATH: a TF2 export folder, a TF1 frozen graph or its folder, or a packaged
    model's short name (:mod:`compare.adapters.packaged_models`)."""
    if not arg:
        raise UserError('ours-odapi detector needs an export folder: '
                        'ours-odapi:path/to/export')
    packaged = packaged_models.named(arg)
    name = options.pop('name', 'ours-odapi-' + (arg if packaged else tf_common.slug(arg)))
    labels = options.pop('labels', packaged.label_map if packaged else None)
    return ChainerODAPIAdapter(name, arg, labels=labels, device=options.pop('device', '@numpy'),
                               packaged=packaged)
