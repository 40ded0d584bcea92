"""Detection accuracy with the field's own evaluators; this file only converts.

- VOC: ``chainercv.evaluations.eval_detection_voc`` (IoU 0.5, ``difficult``
  ignored) with ``use_07_metric=True`` (VOC2007 11-point) and ``False`` (area
  under the monotone PR curve, VOC2010+). ChainerCV ADDS +1 to the max
  coordinates (integer pixel convention); the TF OD API Pascal evaluator does
  not, and drops zero-width/height detections: the box convention
  (:mod:`compare.score.conventions`) says which is applied.
  PR curves come from ``calc_detection_voc_prec_rec``. The code paths used
  here do not touch ``np.bool`` (only ``VOCBboxDataset`` does, which is not
  used), so no numpy shim is needed.
- COCO: ``pycocotools`` ``COCOeval`` (or faster-coco-eval,
  :mod:`compare.score.coco_eval`; ``iouType='bbox'``, defaults: 10 IoUs
  .50:.05:.95, 101 recall points, at most 100 detections per image, area
  ``all``): AP@[.5:.95] (``stats[0]``) and AP50 (``stats[1]``), the full
  summary, and AP at the single IoU ``--iou``; per class, the same average
  taken over one class of ``eval['precision']``. Boxes are continuous (no
  +1). ``difficult`` boxes (VOC ``difficult``, COCO ``iscrowd``) are passed
  as ``iscrowd=1``; each object's ``area`` is the COCO file's ``area`` where
  it has one, else the box's ``w * h`` (VOC XML always), which is what
  pycocotools' small/medium/large ranges compare.

A detector is scored on the annotation classes it can name (canonical names,
:mod:`compare.score.classes`); ground truth of classes it cannot predict is left
out of its evaluation and the class out of its mean; its detections of
classes the annotation does not define are dropped and counted.
"""
import dataclasses

import numpy as np
from chainercv.evaluations import calc_detection_voc_prec_rec, eval_detection_voc

from compare.detections import BOX_KEYS
from compare.score import coco_eval
from compare.score.classes import canonical
from compare.score.conventions import CONVENTIONS, DEFAULT


@dataclasses.dataclass
class EvalSet:
    """One detector's detections and the ground truth, in ChainerCV's format.

    Attributes:
        classes: canonical class names; label ``l`` is ``classes[l]``.
        images: image names, one per entry of the lists below.
        pred_bboxes / gt_bboxes: lists of ``(R, 4)`` float32
            ``(y_min, x_min, y_max, x_max)``.
        pred_labels / gt_labels: lists of ``(R,)`` int32 in ``[0, len(classes))``.
        pred_scores: list of ``(R,)`` float32.
        gt_difficults: list of ``(R,)`` bool.
        sizes: list of ``(height, width)``.
        dropped: detections of classes the annotation does not define.
        gt_areas: list of ``(R,)`` float64 COCO ``area`` (NaN: none given).
    """
    classes: tuple
    images: list
    pred_bboxes: list
    pred_labels: list
    pred_scores: list
    gt_bboxes: list
    gt_labels: list
    gt_difficults: list
    sizes: list
    dropped: int
    gt_areas: list = dataclasses.field(default_factory=list)


def build_eval_set(detections, truths, classes, sizes):
    """Gather one detector's evaluation input.

    Args:
        detections: that detector's rows of the detections table.
        truths: ``{image: GroundTruth}`` for the images it processed.
        classes: sorted canonical classes to evaluate.
        sizes: ``{image: (height, width)}``.
    """
    index = {name: label for label, name in enumerate(classes)}
    by_image = dict(tuple(detections.groupby('image', sort=True)))
    data = EvalSet(tuple(classes), [], [], [], [], [], [], [], [], 0)
    for image in sorted(truths):
        rows = by_image.get(image, detections.iloc[:0])
        known = rows['class'].isin(index)
        data.dropped += int((~known).sum())
        rows = rows[known]
        data.images.append(image)
        data.sizes.append(sizes[image])
        data.pred_bboxes.append(rows[list(BOX_KEYS)].to_numpy(np.float32).reshape(-1, 4))
        data.pred_labels.append(rows['class'].map(index).to_numpy(np.int32))
        data.pred_scores.append(rows['score'].to_numpy(np.float32))
        truth = truths[image]
        gt_classes = [canonical(name) for name in truth.names]
        keep = np.array([name in index for name in gt_classes], bool)
        data.gt_bboxes.append(truth.boxes[keep].reshape(-1, 4))
        data.gt_labels.append(np.array([index[c] for c in gt_classes if c in index], np.int32))
        data.gt_difficults.append(truth.difficult[keep])
        data.gt_areas.append(truth.object_areas()[keep])
    return data


def _pad(values, n_class):
    """ChainerCV's per-class output stops at the largest label seen; pad with NaN."""
    values = list(values)
    return np.array(values + [np.nan] * (n_class - len(values)), dtype=np.float64)


def _voc_inputs(data, convention):
    """The six lists of ChainerCV's VOC evaluator, under ``convention``
    (:class:`compare.score.conventions.BoxConvention`)."""
    keeps = [convention.keep_detections(boxes) for boxes in data.pred_bboxes]
    return ([convention.voc_boxes(b)[k] for b, k in zip(data.pred_bboxes, keeps, strict=True)],
            [labels[k] for labels, k in zip(data.pred_labels, keeps, strict=True)],
            [scores[k] for scores, k in zip(data.pred_scores, keeps, strict=True)],
            [convention.voc_boxes(b) for b in data.gt_bboxes], data.gt_labels,
            data.gt_difficults)


def _nothing_labelled(inputs):
    """True when no image has a ground-truth or predicted label in the VOC
    evaluator's ``inputs``: ChainerCV's evaluators then fail (``max()`` of an
    empty sequence), and every AP is NaN."""
    _, pred_labels, _, _, gt_labels, _ = inputs
    return not any(len(labels) for labels in list(pred_labels) + list(gt_labels))


def voc_ap(data, use_07_metric, convention=CONVENTIONS[DEFAULT]):
    """``(ap, map)``: ``(C,)`` float64 per class (NaN: no ground truth) and the
    mean over classes with ground truth, from ``eval_detection_voc`` at the
    convention's IoU (``convention.iou``, ``--iou``)."""
    inputs = _voc_inputs(data, convention) if data.images else None
    if inputs is None or _nothing_labelled(inputs):
        return np.full(len(data.classes), np.nan), float('nan')
    result = eval_detection_voc(*inputs, iou_thresh=convention.iou,
                                use_07_metric=use_07_metric)
    return _pad(result['ap'], len(data.classes)), float(result['map'])


def voc_prec_rec(data, convention=CONVENTIONS[DEFAULT]):
    """``(prec, rec)``: lists of ``len(classes)``, each an array or None."""
    inputs = _voc_inputs(data, convention) if data.images else None
    if inputs is None or _nothing_labelled(inputs):
        return [None] * len(data.classes), [None] * len(data.classes)
    prec, rec = calc_detection_voc_prec_rec(*inputs, iou_thresh=convention.iou)
    missing = [None] * (len(data.classes) - len(prec))
    return list(prec) + missing, list(rec) + missing


def _xywh(box):
    """``(y_min, x_min, y_max, x_max)`` -> COCO ``[x, y, w, h]`` (python floats)."""
    y_min, x_min, y_max, x_max = (float(v) for v in box)
    return [x_min, y_min, x_max - x_min, y_max - y_min]


def _area(box_xywh, area):
    """The object's COCO ``area``: the file's where it has one, else ``w * h``."""
    return float(area) if np.isfinite(area) else box_xywh[2] * box_xywh[3]


def to_coco(data):
    """``(gt dataset, list of detection dicts)``; image id = position + 1,
    category id = label + 1; each object's ``area`` as :func:`_area`."""
    images = [{'id': k + 1, 'height': int(h), 'width': int(w), 'file_name': name}
              for k, (name, (h, w)) in enumerate(zip(data.images, data.sizes, strict=True))]
    annotations, results = [], []
    for k in range(len(data.images)):
        areas = data.gt_areas[k] if data.gt_areas else np.full(len(data.gt_bboxes[k]), np.nan)
        for box, label, difficult, area in zip(data.gt_bboxes[k], data.gt_labels[k],
                                               data.gt_difficults[k], areas, strict=True):
            xywh = _xywh(box)
            annotations.append({'id': len(annotations) + 1, 'image_id': k + 1,
                                'category_id': int(label) + 1, 'bbox': xywh,
                                'area': _area(xywh, area), 'iscrowd': int(difficult)})
        results += [{'image_id': k + 1, 'category_id': int(label) + 1, 'bbox': _xywh(box),
                     'score': float(score)}
                    for box, label, score in zip(data.pred_bboxes[k], data.pred_labels[k],
                                                 data.pred_scores[k], strict=True)]
    dataset = {'images': images, 'annotations': annotations,
               'categories': [{'id': c + 1, 'name': name} for c, name in enumerate(data.classes)]}
    return dataset, results


def coco_ap(data, iou=None, evaluator=None):
    """``(ap, ap50, stats, ap_iou)``: per class ``(C,)`` AP@[.5:.95] and AP50
    (NaN: no ground truth), ``COCOeval.stats`` (``stats[0]`` AP, ``stats[1]``
    AP50), and per class COCO-style AP at the single IoU ``iou`` (all NaN
    when ``iou`` is None), from ``evaluator`` (:mod:`compare.score.coco_eval`;
    None: pycocotools)."""
    nan = np.full(len(data.classes), np.nan)
    if not data.images or not data.classes:
        return nan, nan.copy(), np.full(12, np.nan), nan.copy()
    dataset, results = to_coco(data)
    found, single = coco_eval.evaluate(dataset, results, evaluator or coco_eval.DEFAULT, iou)
    ap = coco_eval.per_class_ap(found.precision)
    ap50 = coco_eval.per_class_ap(found.precision[:1])
    return ap, ap50, found.stats, nan.copy() if single is None else single
