"""The OD API's SSD post-processing: score conversion, then per-class NMS
with per-class and total caps (``batch_multiclass_non_max_suppression`` with
the exporter's defaults), on the host in numpy float32.

Semantics, as TF computes them (``core/post_processing.py`` and the
``NonMaxSuppressionV5`` kernel), which differ from ChainerCV's NMS:

* a box is a candidate of a class when its score is *strictly greater* than
  ``score_threshold``; it is suppressed by a kept box when their IoU is
  *strictly greater* than ``iou_threshold`` (IoU 0 when either box has no area);
* candidates are visited by decreasing score, the lower anchor index first
  among equal scores; at most ``max_detections_per_class`` are kept per class;
* the kept boxes of all classes are ordered by decreasing score (ties: lower
  class, then earlier kept), clipped to the window [0, 0, 1, 1], those left
  with no area dropped, and the first ``max_total_detections`` returned.
"""
import numpy as np

F32 = np.float32


def convert_scores(logits, converter, logit_scale=1.0):
    """Class logits float32 (..., C + 1) -> scores (..., C + 1), background
    first: ``sigmoid`` or ``softmax`` of ``logits / logit_scale``."""
    x = logits.astype(F32) * F32(1.0 / logit_scale)
    if converter == 'SIGMOID':
        return F32(1) / (F32(1) + np.exp(-x))
    if converter == 'SOFTMAX':
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError('unknown score converter {!r}'.format(converter))


def _corners(boxes):
    """(y0, x0, y1, x1, area) float32 (N,) each: corners ordered, as TF's NMS
    kernel orders them, and the area."""
    y0, x0 = np.minimum(boxes[:, 0], boxes[:, 2]), np.minimum(boxes[:, 1], boxes[:, 3])
    y1, x1 = np.maximum(boxes[:, 0], boxes[:, 2]), np.maximum(boxes[:, 1], boxes[:, 3])
    return y0, x0, y1, x1, (y1 - y0) * (x1 - x0)


def _iou(box, corners):
    """TF's NMS IoU of box ``box`` ((y0, x0, y1, x1, area) scalars) with the
    boxes of ``corners`` (:func:`_corners`): float32 (N,), element by element
    the float32 operations of TF's kernel (so threshold decisions are TF's)."""
    y0, x0, y1, x1, area = box
    ys0, xs0, ys1, xs1, areas = corners
    inter = (np.maximum(np.minimum(y1, ys1) - np.maximum(y0, ys0), F32(0)) *
             np.maximum(np.minimum(x1, xs1) - np.maximum(x0, xs0), F32(0)))
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / (area + areas - inter)
    return np.where((area <= 0) | (areas <= 0), F32(0), iou)


class Suppression:
    """Which boxes a kept box suppresses, computed once per box and shared
    by every class (the boxes are the same, only the scores differ).

    ``row(i)`` is bool (N,): True where box i, kept, suppresses that box
    (IoU strictly above ``iou_threshold``). Rows are computed when first
    asked for, into an (N, N) bool array whose pages are only touched for
    the rows computed (at most N^2 bytes: 3.7 MB for the 1917 anchors of
    the standard 300x300 model).

    Args:
        boxes: float32 (N, 4) (y_min, x_min, y_max, x_max).
    """

    def __init__(self, boxes, iou_threshold):
        self.corners, self.threshold = _corners(boxes), F32(iou_threshold)
        self.rows = np.zeros((len(boxes), len(boxes)), dtype=bool)
        self.done = np.zeros(len(boxes), dtype=bool)

    def row(self, i):
        if not self.done[i]:
            box = tuple(part[i] for part in self.corners)
            self.rows[i] = _iou(box, self.corners) > self.threshold
            self.done[i] = True
        return self.rows[i]


def non_max_suppression(boxes, scores, iou_threshold, score_threshold, limit,
                        suppression=None):
    """Indices int64 (k,) of the boxes TF's hard NMS keeps, in keep order.

    Args:
        boxes: float32 (N, 4) (y_min, x_min, y_max, x_max).
        scores: float32 (N,). limit (int): keep at most this many.
        suppression (Suppression): of ``boxes`` at ``iou_threshold``, shared
            between calls on the same boxes; None: a new one.
    """
    suppression = suppression or Suppression(boxes, iou_threshold)
    candidates = np.flatnonzero(scores > F32(score_threshold))
    # decreasing score, lower index first among equals (stable sort)
    order = candidates[np.argsort(-scores[candidates], kind='stable')]
    alive = np.ones(len(order), dtype=bool)
    kept, i = [], 0
    while i < len(order) and len(kept) < limit:
        kept.append(order[i])
        rest = alive[i + 1:]
        rest &= ~suppression.row(order[i])[order[i + 1:]]
        # the next candidate still alive, in score order
        i += 1 + int(rest.argmax()) if rest.any() else len(order)
    return np.array(kept, dtype=np.int64)


def clip_to_window(boxes, window=(0.0, 0.0, 1.0, 1.0)):
    """Boxes float32 (N, 4) clipped coordinate-wise into the window."""
    y0, x0, y1, x1 = (F32(v) for v in window)
    low = np.array([y0, x0, y0, x0], dtype=F32)
    high = np.array([y1, x1, y1, x1], dtype=F32)
    return np.maximum(np.minimum(boxes, high), low)


def multiclass_nms(boxes, scores, config):
    """Final detections of one image.

    Args:
        boxes: float32 (K, 4) decoded boxes, normalized, one per anchor.
        scores: float32 (K, C) foreground scores (background column removed).
        config (replicate.odapi.config.PostProcessing): thresholds and caps.

    Returns:
        dict of numpy arrays, N detections by decreasing score: ``boxes``
        float32 (N, 4) normalized (y_min, x_min, y_max, x_max) clipped to
        [0, 1]; ``classes`` int32 (N,) 0-based foreground classes;
        ``scores`` float32 (N,); ``anchor_indices`` int32 (N,).
    """
    per_class = []
    suppression = Suppression(boxes, config.iou_threshold)
    for c in range(scores.shape[1]):
        limit = min(config.max_detections_per_class, len(boxes))
        kept = non_max_suppression(boxes, scores[:, c], config.iou_threshold,
                                   config.score_threshold, limit, suppression)
        per_class.append((kept, np.full(len(kept), c, dtype=np.int32)))
    anchors = np.concatenate([kept for kept, _ in per_class])
    classes = np.concatenate([label for _, label in per_class])
    kept_scores = scores[anchors, classes]
    # all classes by decreasing score; ties keep class order, then keep order
    order = np.argsort(-kept_scores, kind='stable')
    anchors, classes, kept_scores = anchors[order], classes[order], kept_scores[order]
    clipped = clip_to_window(boxes[anchors])
    area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = np.flatnonzero(area > 0)[:config.max_total_detections]
    return {'boxes': clipped[keep], 'classes': classes[keep], 'scores': kept_scores[keep],
            'anchor_indices': anchors[keep].astype(np.int32)}
