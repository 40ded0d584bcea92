"""Each detection against the ground truth: true or false positive, and why.

The rule is PASCAL VOC's, applied as ChainerCV's ``eval_detection_voc`` applies
it, so the true positives here are those behind ``map_voc07``/``map_voc``:
within one image and one canonical class, detections are visited by
descending score (numpy's argsort of the scores, reversed, as ChainerCV does);
each one's target is the ground-truth box of its class with the highest IoU
(IoU with VOC's +1 pixel on the max coordinates, as ChainerCV computes it). If
that IoU is >= ``IoU_fg`` (the convention's ``iou``, ``--iou``, default
:data:`IOU_FG` 0.5): a ``difficult`` target makes the
detection ``difficult`` (ignored, neither TP nor FP), an unused target makes
it a ``tp`` (and uses the target), a used one a ``fp`` (a duplicate).
Otherwise it is a ``fp``. A detection's verdict does not depend on any
lower-scoring detection, so it is the same at every score threshold.

Every false positive gets an error type of the TIDE paper (Bolya et al.,
ECCV 2020), tested in this order, with ``IoU_fg`` (0.5 unless ``--iou``) and
``IoU_bg`` = 0.1 (TIDE's own order and its dAP, on every detection, are
:mod:`compare.score.tide`):

- ``dupe``: IoU >= ``IoU_fg`` with a box of its class that a higher-scoring
  detection already took;
- ``cls``: IoU >= ``IoU_fg`` with a box of another class;
- ``loc``: ``IoU_bg`` <= IoU < ``IoU_fg`` with a box of its class;
- ``both``: ``IoU_bg`` <= IoU < ``IoU_fg`` with a box of another class;
- ``bkg``: IoU < ``IoU_bg`` with every box.

A ground-truth box (not difficult) is ``missed`` at a score threshold when no
true positive at or above it took it and no ``cls`` or ``loc`` error at or
above it targets it (:mod:`compare.score.diagnosis` counts them).

Detections of classes the annotation does not define are
``unannotated_class`` (left out, as the mAP drops them); detections on images
without annotations are ``no_annotation``. Ground truth of classes the
detector cannot name is not counted against it (no FN), but a detection on
such an object still finds it as "another class".
"""
import numpy as np
import pandas as pd

from compare.score.classes import canonical, canonical_set
from compare.score.conventions import CONVENTIONS, DEFAULT

IOU_FG = 0.5
IOU_BG = 0.1
#: Values of the ``gt_match`` column.
VERDICTS = ('tp', 'fp', 'difficult', 'unannotated_class', 'no_annotation', 'degenerate')
#: Values of the ``error`` column (false positives only).
ERRORS = ('dupe', 'cls', 'loc', 'both', 'bkg')
#: Columns :func:`match_table` adds to the detections table.
MATCH_COLUMNS = ('gt_match', 'error', 'iou', 'gt_class', 'gt_index', 'gt_y_min', 'gt_x_min',
                 'gt_y_max', 'gt_x_max')


def voc_iou(a, b, plus_one=True):
    """IoU of ``(Ra, 4)`` and ``(Rb, 4)`` ``(y_min, x_min, y_max, x_max)`` boxes
    -> ``(Ra, Rb)`` float64; with ``plus_one`` VOC's +1 pixel on the max
    coordinates (ChainerCV), else continuous."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    one = 1.0 if plus_one else 0.0
    # (Ra, 1, 2) against (1, Rb, 2)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:]) + one
    sides = bottom_right - top_left
    inter = np.prod(sides, axis=2) * (sides > 0).all(axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2] + one, axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2] + one, axis=1)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / (area_a[:, None] + area_b[None, :] - inter)
    return np.nan_to_num(iou)


def match_image(boxes, classes, scores, truth_boxes, truth_classes, truth_difficult,
                evaluated, convention=CONVENTIONS[DEFAULT]):
    """The verdict of each detection of one image.

    Args:
        boxes: ``(R, 4)`` detections; ``classes`` R canonical names;
            ``scores`` ``(R,)``.
        truth_boxes: ``(K, 4)``; ``truth_classes`` K canonical names;
            ``truth_difficult`` ``(K,)`` bool.
        evaluated: canonical classes both the detector and the annotation name.
        convention: :class:`compare.score.conventions.BoxConvention`.

    Returns:
        dict of R-long lists: ``gt_match``, ``error``, ``iou`` (best IoU with
        a box of its class, 0 if none), ``gt_index`` (the target box, -1 if
        none).
    """
    n = len(scores)
    verdict, error = [''] * n, [''] * n
    best_iou, target = np.zeros(n), np.full(n, -1)
    iou = voc_iou(boxes, truth_boxes, convention.voc_plus_one)
    counted = convention.keep_detections(boxes)
    same = np.array([[c == t for t in truth_classes] for c in classes], bool).reshape(
        n, len(truth_classes))
    same_iou = np.where(same, iou, -1.0)
    other_iou = np.where(same, -1.0, iou)
    used = np.zeros(len(truth_classes), bool)
    for cls in sorted(set(classes)):
        members = np.flatnonzero(np.array(classes) == cls)
        if cls not in evaluated:
            for i in members:
                verdict[i] = 'unannotated_class'
            continue
        # ChainerCV's visiting order: argsort of the scores, reversed
        for i in members[np.argsort(np.asarray(scores)[members])[::-1]]:
            if not counted[i]:
                verdict[i] = 'degenerate'
                continue
            j = int(np.argmax(same_iou[i])) if same.any() and same[i].any() else -1
            best_iou[i] = max(same_iou[i, j], 0.0) if j >= 0 else 0.0
            if j >= 0 and same_iou[i, j] >= convention.iou:
                target[i] = j
                if truth_difficult[j]:
                    verdict[i] = 'difficult'
                elif not used[j]:
                    verdict[i] = 'tp'
                else:
                    verdict[i], error[i] = 'fp', 'dupe'
                used[j] = True
                continue
            verdict[i], error[i], target[i] = ('fp',) + _error_type(same_iou[i], other_iou[i],
                                                                    convention.iou)
    return {'gt_match': verdict, 'error': error, 'iou': best_iou, 'gt_index': target}


def _error_type(same_iou, other_iou, iou_fg=IOU_FG):
    """``(TIDE type, target box)`` of a false positive that is not a duplicate."""
    best_other = int(np.argmax(other_iou)) if len(other_iou) else -1
    best_same = int(np.argmax(same_iou)) if len(same_iou) else -1
    other = other_iou[best_other] if best_other >= 0 else 0.0
    same = same_iou[best_same] if best_same >= 0 else 0.0
    if other >= iou_fg:
        return 'cls', best_other
    if same >= IOU_BG:
        return 'loc', best_same
    if other >= IOU_BG:
        return 'both', best_other
    return 'bkg', -1


def match_table(detections, truths, vocabularies, annotation_classes,
                convention=CONVENTIONS[DEFAULT]):
    """:data:`MATCH_COLUMNS` for every row of the detections table.

    Args:
        detections: the detections table (:mod:`compare.score.inputs`).
        truths: ``{image: GroundTruth}``; images absent are ``no_annotation``.
        vocabularies: ``{detector: its class names}``.
        annotation_classes: canonical classes the annotation defines.
        convention: :class:`compare.score.conventions.BoxConvention`.

    Returns:
        DataFrame aligned with ``detections`` (same index).
    """
    out = pd.DataFrame(index=detections.index, columns=list(MATCH_COLUMNS))
    out['gt_match'], out['error'], out['gt_class'] = 'no_annotation', '', ''
    out['iou'], out['gt_index'] = np.nan, -1
    for column in MATCH_COLUMNS[-4:]:
        out[column] = np.nan
    annotated = set(annotation_classes)
    for (detector, image), rows in detections.groupby(['detector', 'image'], sort=True):
        if image not in truths:
            continue
        truth = truths[image]
        truth_classes = [canonical(name) for name in truth.names]
        evaluated = canonical_set(vocabularies[detector]) & annotated
        found = match_image(rows[['y_min', 'x_min', 'y_max', 'x_max']].to_numpy(float),
                            list(rows['class']), rows['score'].to_numpy(float), truth.boxes,
                            truth_classes, truth.difficult, evaluated, convention)
        index = rows.index
        out.loc[index, 'gt_match'] = found['gt_match']
        out.loc[index, 'error'] = found['error']
        out.loc[index, 'iou'] = found['iou']
        out.loc[index, 'gt_index'] = found['gt_index']
        for position, j in zip(index, found['gt_index'], strict=True):
            if j >= 0:
                out.loc[position, 'gt_class'] = truth_classes[j]
                out.loc[position, ['gt_y_min', 'gt_x_min', 'gt_y_max', 'gt_x_max']] = [
                    float(v) for v in truth.boxes[j]]
    out.loc[out['gt_match'].isin(['unannotated_class', 'no_annotation', 'degenerate']),
            'iou'] = np.nan
    out['gt_index'] = out['gt_index'].astype(int)
    for column in ('iou',) + MATCH_COLUMNS[-4:]:
        out[column] = out[column].astype(float)
    return out
