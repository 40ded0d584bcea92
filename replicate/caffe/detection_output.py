"""Caffe's ``DetectionOutput`` layer as plain numpy code: decoding against the
prior boxes with their variances, then per-class NMS, as the original SSD
implementation's ``detection_output_layer.cpp`` and ``bbox_util.cpp`` do it
(read there; the float32 / double steps below follow that code):

1. decode (``CENTER_SIZE``): prior centre ``(x_min + x_max) / 2``, side
   ``x_max - x_min``; centre ``v0 * l0 * w_p + c_x`` (float32), width
   ``exp(v2 * l2) * w_p`` (exp in double); corners ``centre -+ side / 2``
   in double, stored as float32. ``variance_encoded_in_target`` drops the
   ``v`` factors. Loc rows are Caffe's ``(x, y, w, h)`` offsets;
2. for each class but the background: candidates with score strictly above
   ``confidence_threshold`` (no threshold when absent), by descending score
   (stable: equal scores keep prior order), the first ``top_k``; greedy NMS:
   a candidate is kept unless its Jaccard overlap with a kept box (float32,
   Caffe's formula) is above the threshold, which ``eta < 1`` lowers after
   each kept box while it is above 0.5;
3. ``keep_top_k``: when more detections than that survive, the highest
   scores over all classes (ties: the order of step 2, class by class; the
   reference's ``std::sort`` leaves ties unspecified);
4. rows grouped by class (ascending), by descending score inside a class.

Why not :mod:`replicate.nms`: that is ChainerCV's rule (suppress at IoU >=
the threshold, ties visited in reverse index order, IoU in float64); Caffe
suppresses above the threshold, keeps ties in index order and computes the
overlap in float32, so results would differ on ties and near the threshold.

Boxes here are Caffe's ``(x_min, y_min, x_max, y_max)`` normalized to the
input; :class:`replicate.caffe.ssd.CaffeSSD` converts to the project's order.
"""
import dataclasses

import numpy as np

from replicate.caffe.errors import CaffeError

#: Caffe's confidence threshold when none is given (-FLT_MAX: every score passes).
NO_THRESHOLD = float(-np.finfo(np.float32).max)
KNOWN_FIELDS = ('num_classes', 'share_location', 'background_label_id', 'nms_param',
                'save_output_param', 'code_type', 'variance_encoded_in_target', 'keep_top_k',
                'confidence_threshold', 'visualize', 'visualize_threshold', 'save_file')


@dataclasses.dataclass(frozen=True)
class DetectionSettings:
    """A DetectionOutput layer's parameters (Caffe's defaults where absent).

    ``top_k`` and ``keep_top_k`` are -1 for "no cap".
    """
    num_classes: int
    share_location: bool = True
    background_label_id: int = 0
    nms_threshold: float = 0.3
    top_k: int = -1
    eta: float = 1.0
    keep_top_k: int = -1
    confidence_threshold: float = NO_THRESHOLD
    variance_encoded_in_target: bool = False
    code_type: str = 'CENTER_SIZE'

    @property
    def foreground(self):
        """The class ids that are not the background, ascending."""
        return tuple(c for c in range(self.num_classes) if c != self.background_label_id)

    def info(self):
        """The settings as text, for a run's record (floats as float32 prints them)."""
        def text(value):
            return str(np.float32(value)) if isinstance(value, float) else str(value)
        return {f.name: text(getattr(self, f.name)) for f in dataclasses.fields(self)}


def settings_from(spec):
    """:class:`DetectionSettings` of a DetectionOutput :class:`LayerSpec`."""
    p = spec.params(KNOWN_FIELDS)
    if not p.has('num_classes') or p.get('num_classes', 'int') < 1:
        raise spec.refuse('needs num_classes >= 1')
    code = p.get('code_type', 'enum', 'CORNER')
    if code != 'CENTER_SIZE':
        raise spec.refuse('code_type {} is not supported (CENTER_SIZE; Caffe\'s default when '
                          'absent is CORNER)'.format(code))
    nms = p.sub('nms_param', ('nms_threshold', 'top_k', 'eta'))
    settings = DetectionSettings(
        num_classes=p.get('num_classes', 'int'),
        share_location=p.get('share_location', 'bool', True),
        background_label_id=p.get('background_label_id', 'int', 0),
        nms_threshold=float(np.float32(nms.get('nms_threshold', 'float', 0.3))),
        top_k=nms.get('top_k', 'int', -1), eta=float(np.float32(nms.get('eta', 'float', 1.0))),
        keep_top_k=p.get('keep_top_k', 'int', -1),
        confidence_threshold=float(np.float32(p.get('confidence_threshold', 'float',
                                                    NO_THRESHOLD))),
        variance_encoded_in_target=p.get('variance_encoded_in_target', 'bool', False))
    if settings.nms_threshold < 0 or not 0 < settings.eta <= 1:
        raise spec.refuse('needs nms_threshold >= 0 and 0 < eta <= 1')
    return settings


def decode(loc, priors, variances, encoded=False):
    """CENTER_SIZE decoding of one class's offsets.

    Args:
        loc: float32 (P, 4) offsets ``(x, y, w, h)``.
        priors: float32 (P, 4) corners; variances: float32 (P, 4).
        encoded (bool): ``variance_encoded_in_target``.

    Returns:
        float32 (P, 4) corners ``(x_min, y_min, x_max, y_max)``.
    """
    f32 = np.float32
    width = (priors[:, 2] - priors[:, 0]).astype(f32)
    height = (priors[:, 3] - priors[:, 1]).astype(f32)
    # (x_min + x_max) / 2 in float32: halving is exact
    cx = (priors[:, 0] + priors[:, 2]) * f32(0.5)
    cy = (priors[:, 1] + priors[:, 3]) * f32(0.5)
    # offsets times variances (float32), unless the variances are in the targets
    scaled = loc if encoded else variances * loc
    # float32, as the reference writes it: v * l * side + centre
    center_x = scaled[:, 0] * width + cx
    center_y = scaled[:, 1] * height + cy
    scaled_w, scaled_h = scaled[:, 2], scaled[:, 3]
    # exp and the product in double, one rounding to float32
    box_w = (np.exp(scaled_w.astype(np.float64)) * width).astype(f32)
    box_h = (np.exp(scaled_h.astype(np.float64)) * height).astype(f32)
    # centre form -> corners, in double
    half_w, half_h = box_w.astype(np.float64) / 2, box_h.astype(np.float64) / 2
    center_x, center_y = center_x.astype(np.float64), center_y.astype(np.float64)
    return np.stack([center_x - half_w, center_y - half_h, center_x + half_w,
                     center_y + half_h], axis=1).astype(f32)


def box_size(boxes):
    """float32 (R,) areas, 0 for an inverted box (Caffe's ``BBoxSize``)."""
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    valid = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
    return np.where(valid, width * height, np.float32(0)).astype(np.float32)


def overlap(box, size, others, other_sizes):
    """Caffe's ``JaccardOverlap`` of one box with each of ``others``, float32 (K,)."""
    apart = ((others[:, 0] > box[2]) | (others[:, 2] < box[0]) |
             (others[:, 1] > box[3]) | (others[:, 3] < box[1]))
    inter_w = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    inter_h = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    meet = ~apart & (inter_w > 0) & (inter_h > 0)
    inter = inter_w * inter_h
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / ((size + other_sizes) - inter)
    return np.where(meet, iou, np.float32(0)).astype(np.float32)


def candidates(scores, threshold, top_k):
    """Indices with score > threshold, by descending score (stable), at most ``top_k``."""
    index = np.flatnonzero(scores > np.float32(threshold))
    index = index[np.argsort(-scores[index], kind='stable')]
    return index if top_k < 0 else index[:top_k]


def nms_fast(boxes, sizes, scores, settings):
    """Caffe's ``ApplyNMSFast`` for one class: kept indices, in visiting order."""
    threshold = np.float32(settings.nms_threshold)
    eta = np.float32(settings.eta)
    kept = []
    for i in candidates(scores, settings.confidence_threshold, settings.top_k).tolist():
        keep = not kept or bool((overlap(boxes[i], sizes[i], boxes[kept], sizes[kept])
                                 <= threshold).all())
        if keep:
            kept.append(i)
            if eta < 1 and threshold > 0.5:
                threshold = np.float32(threshold * eta)
    return kept


def _keep_top_k(kept, scores, keep_top_k):
    """``{class: indices}`` cut to the ``keep_top_k`` best scores over all classes."""
    pairs = [(c, i) for c in sorted(kept) for i in kept[c]]
    if keep_top_k < 0 or len(pairs) <= keep_top_k:
        return kept
    values = np.array([scores[i, c] for c, i in pairs], dtype=np.float32)
    best = np.argsort(-values, kind='stable')[:keep_top_k]
    cut = {}
    for j in best.tolist():  # by descending score, as the reference rebuilds its map
        c, i = pairs[j]
        cut.setdefault(c, []).append(i)
    return cut


def detect_one(loc, conf, priors, variances, settings):
    """Detections of one image.

    Args:
        loc: float32 (P * L * 4,) the loc blob of the image (L = 1 when
            locations are shared, else num_classes).
        conf: float32 (P * num_classes,) scores (already softmaxed).
        priors, variances: float32 (P, 4).

    Returns:
        dict of ``labels`` int32 (R,) Caffe class ids, ``scores`` float32
        (R,), ``boxes`` float32 (R, 4) ``(x_min, y_min, x_max, y_max)``
        normalized, ``index`` int64 (R,) the prior of each; in the layer's
        output order (step 4 of the module doc).
    """
    n_prior = len(priors)
    n_loc = 1 if settings.share_location else settings.num_classes
    loc = loc.reshape(n_prior, n_loc, 4)
    scores = conf.reshape(n_prior, settings.num_classes)
    decoded = {}
    for c in range(n_loc):
        label = -1 if settings.share_location else c
        # (the reference also skips shared locations when background_label_id
        # is -1, then aborts; they are needed, so they are decoded here)
        if settings.share_location or label != settings.background_label_id:
            boxes = decode(loc[:, c], priors, variances, settings.variance_encoded_in_target)
            decoded[label] = (boxes, box_size(boxes))
    kept = {}
    for c in settings.foreground:
        boxes, sizes = decoded[-1 if settings.share_location else c]
        kept[c] = nms_fast(boxes, sizes, scores[:, c], settings)
    kept = _keep_top_k(kept, scores, settings.keep_top_k)
    labels, index = [], []
    for c in sorted(kept):
        labels += [c] * len(kept[c])
        index += kept[c]
    labels = np.array(labels, dtype=np.int32)
    index = np.array(index, dtype=np.int64)
    rows = [decoded[-1 if settings.share_location else c][0][i] for c, i in zip(labels, index,
                                                                                 strict=True)]
    return {'labels': labels, 'scores': scores[index, labels].astype(np.float32),
            'boxes': np.array(rows, dtype=np.float32).reshape(-1, 4), 'index': index}


def detection_output(settings, loc, conf, priors):
    """The layer on a batch: a list with :func:`detect_one`'s dict per image.

    Args:
        loc: float32 (B, P * L * 4); conf: float32 (B, P * num_classes);
        priors: float32 (1, 2, P * 4) (boxes, then variances).

    (Where Caffe outputs one row of -1 for a batch without any detection,
    this returns empty arrays.)
    """
    priors = np.asarray(priors, dtype=np.float32)
    n_prior = priors.shape[2] // 4
    n_loc = 1 if settings.share_location else settings.num_classes
    loc = np.asarray(loc, dtype=np.float32).reshape(len(loc), -1)
    conf = np.asarray(conf, dtype=np.float32).reshape(len(conf), -1)
    if priors.shape[:2] != (1, 2) or priors.shape[2] % 4 or \
            loc.shape[1] != n_prior * n_loc * 4 or conf.shape[1] != n_prior * settings.num_classes:
        raise CaffeError('DetectionOutput: {} priors, loc {} and conf {} do not fit {} classes '
                         '(share_location {})'.format(n_prior, loc.shape, conf.shape,
                                                      settings.num_classes,
                                                      settings.share_location))
    boxes, variances = priors[0, 0].reshape(-1, 4), priors[0, 1].reshape(-1, 4)
    return [detect_one(l, c, boxes, variances, settings) for l, c in zip(loc, conf, strict=True)]


def before_nms(settings, loc, conf, priors):
    """Every prior decoded, with its foreground scores, before any threshold
    or NMS (for a common post-processing of several detectors).

    Args: as :func:`detection_output`, one image (``loc`` (P * 4,), ``conf``
        (P * num_classes,)); locations must be shared.

    Returns:
        (boxes, scores): float32 (P, 4) ``(x_min, y_min, x_max, y_max)``
        normalized, float32 (P, F) the scores of :attr:`DetectionSettings.foreground`.
    """
    if not settings.share_location:
        raise CaffeError('DetectionOutput with share_location: false has one box per class '
                         'and prior: no single candidate box per prior')
    priors = np.asarray(priors, dtype=np.float32)
    boxes, variances = priors[0, 0].reshape(-1, 4), priors[0, 1].reshape(-1, 4)
    loc = np.asarray(loc, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(conf, dtype=np.float32).reshape(len(boxes), settings.num_classes)
    decoded = decode(loc, boxes, variances, settings.variance_encoded_in_target)
    return decoded, scores[:, list(settings.foreground)]
