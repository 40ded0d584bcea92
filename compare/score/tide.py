"""TIDE as TIDE reports it: AP, and the AP gained by fixing each error type.

TIDE (Bolya et al., "TIDE: A General Toolbox for Identifying Object Detection
Errors", ECCV 2020) reports, per detector, the count of each error type and
its dAP: the mAP after fixing every error of that type alone, minus the mAP
(clamped at 0). This module computes them with TIDE's own definitions, those
of the ``tidecv`` 1.0.1 package (MIT; read to check this code, not copied),
in our own code; tests/compare/test_tide.py runs ``tidecv`` itself on the same
detections and asserts equal counts and dAPs (1e-9).

Per image, with ``IoU_fg`` = ``--iou`` (0.5) and ``IoU_bg`` = 0.1, IoU
continuous (pycocotools' box IoU, no +1 pixel):

- detections are taken by descending score (stable), at most
  :data:`MAX_DETS` per image; each in turn is a true positive when its best
  same-class IoU with a ground-truth box not yet taken is >= ``IoU_fg`` (that
  box is then taken). Ground truth marked ``difficult`` (VOC) or ``iscrowd``
  (COCO) is an ignore region: a false positive of its class whose crowd IoU
  (intersection over the detection's own area) with it is > ``IoU_fg`` is
  ignored (not in the AP; it still gets an error type, as in TIDE);
- every detection that is not a true positive gets ONE type, tested in this
  order (TIDE's, which differs from the order of the ``error`` column of the
  detections table, :mod:`compare.score.matching`): no ground truth in the
  image: ``bkg``; best same-class IoU (any box) in [``IoU_bg``, ``IoU_fg``]:
  ``loc``; best other-class IoU >= ``IoU_fg``: ``cls``; best same-class IoU
  with a box already taken >= ``IoU_fg``: ``dupe``; best IoU with any box
  <= ``IoU_bg``: ``bkg``; else ``both``;
- a ground-truth box that no detection took and no ``cls`` or ``loc`` error
  targets is ``miss``.

AP is TIDE's: per class, precision made monotone and read at 101 recall
points (the nearest recall at or above each), mean over classes that have a
ground-truth box or a detection (a class with detections only counts, with
AP 0). Fixing an error type: ``cls`` and ``loc`` errors become true
positives of the target's class when the target was not taken, the
highest-scoring error on each target (over both types) only, the others
removed; a ``cls``/``loc`` error whose target was taken, and every ``dupe``,
``bkg``, ``both`` error, is removed; a ``miss`` is removed from the ground
truth. ``dap_fp``: every false positive scored 0; ``dap_fn``: every missed box
removed (TIDE's "special" errors, not clamped). APs and dAPs are fractions
(TIDE prints them x100).

Tied scores: TIDE orders tied detections by insertion order; ours by the
order of the detections table (rank), so with ties the AP can differ from
tidecv's where a tie mixes true and false positives.
"""
import dataclasses

import numpy as np
import pandas as pd

from compare.score.classes import canonical_set
from compare.score.evaluators import build_eval_set

#: Most detections per image (TIDE's default, as COCO's).
MAX_DETS = 100
IOU_BG = 0.1
ERROR_TYPES = ('cls', 'loc', 'both', 'dupe', 'bkg', 'miss')
COLUMNS = (('detector', 'iou', 'bg_iou', 'images', 'ap') +
           tuple('n_' + kind for kind in ERROR_TYPES) +
           tuple('dap_' + kind for kind in ERROR_TYPES) + ('dap_fp', 'dap_fn'))


@dataclasses.dataclass
class Error:
    """One error: ``kind`` (:data:`ERROR_TYPES`), the detection's
    ``(cls, score, counted)`` as it stands (``counted`` False: ignored, not
    in the AP) and, once fixed, ``fixed``: None (removed) or ``(cls, score)``
    (a true positive); for ``miss``, ``cls`` is the box's class."""
    kind: str
    cls: int
    score: float
    counted: bool
    fixed: object = None


def box_iou(dets, gts, crowd=False):
    """``(R, G)`` continuous IoU of ``(y_min, x_min, y_max, x_max)`` boxes,
    computed as pycocotools computes box IoU (``crowd``: intersection over the
    detection's area)."""
    dets = np.asarray(dets, np.float64).reshape(-1, 4)
    gts = np.asarray(gts, np.float64).reshape(-1, 4)
    # (R, 1) against (1, G): widths and heights of the intersections
    w = np.minimum(dets[:, None, 3], gts[None, :, 3]) - np.maximum(dets[:, None, 1],
                                                                 gts[None, :, 1])
    h = np.minimum(dets[:, None, 2], gts[None, :, 2]) - np.maximum(dets[:, None, 0],
                                                                 gts[None, :, 0])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    area_d = ((dets[:, 3] - dets[:, 1]) * (dets[:, 2] - dets[:, 0]))[:, None]
    area_g = ((gts[:, 3] - gts[:, 1]) * (gts[:, 2] - gts[:, 0]))[None, :]
    union = np.broadcast_to(area_d, inter.shape) if crowd else area_d + area_g - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(union > 0, inter / union, 0.0)


class Analysis:
    """Points and errors of one detector over its images (see module doc).

    Attributes:
        points: list of ``(cls, score, correct)`` in the AP (true and false
            positives that are not ignored).
        positives: ``{cls: ground-truth boxes}`` (ignore regions left out).
        errors: list of :class:`Error`.
        unmatched: ``{cls: boxes no detection took}``.
    """

    def __init__(self, iou=0.5, bg_iou=IOU_BG, max_dets=MAX_DETS):
        self.iou, self.bg_iou, self.max_dets = iou, bg_iou, max_dets
        self.points, self.errors, self.positives, self.unmatched = [], [], {}, {}

    def image(self, boxes, labels, scores, gt_boxes, gt_labels, gt_ignore):
        """Add one image: detections ``(R, 4)``, ``(R,)``, ``(R,)``; ground
        truth ``(K, 4)``, ``(K,)``, ``(K,)`` bool (True: an ignore region)."""
        gt_ignore = np.asarray(gt_ignore, bool)
        gt, gt_cls = np.asarray(gt_boxes)[~gt_ignore], np.asarray(gt_labels)[~gt_ignore]
        for cls in gt_cls:
            self.positives[int(cls)] = self.positives.get(int(cls), 0) + 1
        order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))[:self.max_dets]
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)[order]
        labels = np.asarray(labels)[order]
        scores = [float(s) for s in np.asarray(scores)[order]]
        taken = self._match(boxes, labels, gt, gt_cls)
        ignored = self._ignored(boxes, labels, taken, np.asarray(gt_boxes)[gt_ignore],
                                np.asarray(gt_labels)[gt_ignore])
        used = np.zeros(len(gt), bool)
        used[[j for j in taken if j >= 0]] = True
        targets = {}
        for i, (cls, score) in enumerate(zip(labels, scores, strict=True)):
            if not ignored[i]:
                self.points.append((int(cls), score, taken[i] >= 0))
            if taken[i] < 0:
                self.errors.append(self._error(i, int(cls), score, not ignored[i], boxes,
                                               labels, gt, gt_cls, used, targets))
        for j in np.flatnonzero(~used):
            self.unmatched[int(gt_cls[j])] = self.unmatched.get(int(gt_cls[j]), 0) + 1
            if j not in targets:
                self.errors.append(Error('miss', int(gt_cls[j]), 0.0, False))

    def _match(self, boxes, labels, gt, gt_cls):
        """``(R,)`` index of the box each detection took, -1 for none."""
        taken = np.full(len(boxes), -1)
        if not len(gt):
            return taken
        cls_iou = box_iou(boxes, gt) * (labels[:, None] == gt_cls[None, :])
        for i in range(len(boxes)):
            j = int(np.argmax(cls_iou[i]))
            if cls_iou[i, j] >= self.iou:
                taken[i] = j
                cls_iou[:, j] = 0
        return taken

    def _ignored(self, boxes, labels, taken, regions, region_cls):
        """``(R,)`` bool: false positives inside an ignore region of their class."""
        ignored = np.zeros(len(boxes), bool)
        if len(regions) and len(boxes):
            crowd = box_iou(boxes, regions, crowd=True)
            inside = (crowd > self.iou) & (labels[:, None] == region_cls[None, :])
            ignored = inside.any(axis=1) & (taken < 0)
        return ignored

    def _error(self, i, cls, score, counted, boxes, labels, gt, gt_cls, used, targets):
        """The :class:`Error` of detection ``i``; ``targets`` ``{box: best
        error}`` collects the cls/loc errors each free box could fix."""
        error = Error('bkg', cls, score, counted)
        if not len(gt):
            return error
        iou = box_iou(boxes[i:i + 1], gt)[0]
        same = labels[i] == gt_cls
        cls_iou, other_iou = iou * same, iou * ~same
        j = int(np.argmax(cls_iou))
        if self.bg_iou <= cls_iou[j] <= self.iou:
            error.kind = 'loc'
        else:
            j = int(np.argmax(other_iou))
            if other_iou[j] >= self.iou:
                error.kind = 'cls'
            elif (cls_iou * used).max() >= self.iou:
                return dataclasses.replace(error, kind='dupe')
            elif iou.max() <= self.bg_iou:
                return error
            else:
                return dataclasses.replace(error, kind='both')
        if not used[j] and (j not in targets or targets[j].score < score):
            if j in targets:
                targets[j].fixed = None
            error.fixed = (int(gt_cls[j]), score)
            targets[j] = error
        return error


def class_ap(points, positives):
    """TIDE's AP of one class: ``points`` ``(score, correct)``, ``positives``
    ground-truth boxes (0: AP 0)."""
    if positives == 0:
        return 0.0
    ordered = sorted(points, key=lambda point: -point[0])
    correct = np.cumsum([c for _, c in ordered])
    precision = list(correct / np.arange(1, len(ordered) + 1))
    recall = correct / positives
    for k in range(len(precision) - 1, 0, -1):  # monotone: max over higher recall
        precision[k - 1] = max(precision[k - 1], precision[k])
    at = np.array([x / 100 for x in range(101)])
    found = np.searchsorted(recall, at, side='left')
    return float(sum(precision[k] if k < len(precision) else 0 for k in found) / 101)


def mean_ap(points, positives):
    """Mean of :func:`class_ap` over classes with a point or a box (NaN: none).

    Args:
        points: list of ``(cls, score, correct)``.
        positives: ``{cls: boxes}``.
    """
    per_class = {}
    for cls, score, correct in points:
        per_class.setdefault(cls, []).append((score, correct))
    classes = set(per_class) | {c for c, n in positives.items() if n}
    if not classes:
        return float('nan')
    return float(np.mean([class_ap(per_class.get(c, []), positives.get(c, 0))
                          for c in sorted(classes)]))


def fixed_points(analysis, kind):
    """``(points, positives)`` with every error of ``kind`` fixed."""
    points = [p for p in analysis.points if p[2]]
    positives = dict(analysis.positives)
    for error in analysis.errors:
        if error.kind != kind:
            if error.kind != 'miss' and error.counted:
                points.append((error.cls, error.score, False))
        elif kind == 'miss':
            positives[error.cls] -= 1
        elif error.fixed is not None:
            points.append(error.fixed + (True,))
    return points, positives


def summary(analysis):
    """``{'ap', 'n_<type>', 'dap_<type>', 'dap_fp', 'dap_fn'}`` of an :class:`Analysis`."""
    base = mean_ap(analysis.points, analysis.positives)
    row = {'ap': base}
    for kind in ERROR_TYPES:
        row['n_' + kind] = sum(error.kind == kind for error in analysis.errors)
        row['dap_' + kind] = max(mean_ap(*fixed_points(analysis, kind)) - base, 0.0)
    row['dap_fp'] = mean_ap([(c, 1.0 if ok else 0.0, ok) for c, _, ok in analysis.points],
                            analysis.positives) - base
    row['dap_fn'] = mean_ap(analysis.points, {c: n - analysis.unmatched.get(c, 0)
                                              for c, n in analysis.positives.items()}) - base
    return row


def analyse(data, iou=0.5):
    """:class:`Analysis` of one detector's :class:`compare.score.evaluators.EvalSet`
    (labels are the classes; difficult boxes are ignore regions)."""
    analysis = Analysis(iou)
    for k in range(len(data.images)):
        analysis.image(data.pred_bboxes[k], data.pred_labels[k], data.pred_scores[k],
                       data.gt_bboxes[k], data.gt_labels[k], data.gt_difficults[k])
    return analysis


def tide_table(run, truths, annotation_classes, convention):
    """The ``tide`` table (:data:`COLUMNS`), one row per detector, on every
    detection it kept over the annotated images it processed, classes as for
    its mAP (:func:`compare.score.ap.score_detector`)."""
    rows = []
    for detector in run.ok_detectors():
        classes = sorted(set(annotation_classes) & canonical_set(run.label_names(detector)))
        processed = set(run.images.loc[run.images['detector'] == detector, 'image'])
        mine = {image: truths[image] for image in sorted(processed & set(truths))}
        dets = run.detections[(run.detections['detector'] == detector) &
                              run.detections['image'].isin(set(mine))]
        data = build_eval_set(dets, mine, classes, run.sizes())
        row = {'detector': detector, 'iou': convention.iou, 'bg_iou': IOU_BG,
               'images': len(mine)}
        row.update(summary(analyse(data, convention.iou)))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))
