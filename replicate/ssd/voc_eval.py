"""Pascal VOC detection AP (the VOC07 11-point metric and the area metric),
computing what ChainerCV's ``eval_detection_voc`` computes (a test checks it),
without ChainerCV.

Rules (the VOC devkit's): per class, detections are taken by descending score;
within an image each detection goes to the ground truth it overlaps most
(IoU computed on integer pixel boxes: +1 on the max coordinates); it is a true
positive if that IoU >= ``iou_thresh`` and the ground truth is not yet taken,
ignored if the ground truth is ``difficult``, else a false positive.
Difficult objects do not count as positives.

Boxes are (R, 4) (y_min, x_min, y_max, x_max) in pixels; labels int in
[0, n_fg_class).
"""
import numpy as np

from replicate.ssd.boxes import bbox_iou

TP, FP, IGNORED = 1, 0, -1


def _match_image(pred_bbox, gt_bbox, gt_difficult, iou_thresh):
    """Outcome (TP, FP or IGNORED) of each detection of one class in one
    image; ``pred_bbox`` sorted by descending score."""
    if len(gt_bbox) == 0:
        return np.full(len(pred_bbox), FP, dtype=np.int8)
    # integer pixel boxes: the max row/column is inside the box
    one = np.array((0, 0, 1, 1), dtype=pred_bbox.dtype)
    iou = bbox_iou(pred_bbox + one, gt_bbox + one.astype(gt_bbox.dtype))
    best = iou.argmax(axis=1)
    hit = iou.max(axis=1) >= iou_thresh
    taken = np.zeros(len(gt_bbox), dtype=bool)
    outcome = np.full(len(pred_bbox), FP, dtype=np.int8)
    for i in np.flatnonzero(hit):
        gt = best[i]
        if gt_difficult[gt]:
            outcome[i] = IGNORED
        elif not taken[gt]:
            outcome[i] = TP
        taken[gt] = True
    return outcome


def precision_recall(pred_bboxes, pred_labels, pred_scores, gt_bboxes, gt_labels,
                     gt_difficults=None, iou_thresh=0.5):
    """Per class precision and recall arrays over the ranked detections.

    Args: lists with one array per image (see the module docstring);
        ``gt_difficults`` bool (R,) per image or None (none difficult).

    Returns:
        (prec, rec): lists indexed by class (up to the largest label seen);
        ``prec[l]`` is None when class l has neither detections nor ground
        truth, ``rec[l]`` None when it has no non-difficult ground truth.
    """
    if gt_difficults is None:
        gt_difficults = [np.zeros(len(b), dtype=bool) for b in gt_bboxes]
    lengths = {len(x) for x in (pred_bboxes, pred_labels, pred_scores, gt_bboxes, gt_labels,
                                gt_difficults)}
    if len(lengths) != 1:
        raise ValueError('need one entry per image in every argument, got lengths {}'.format(
            sorted(lengths)))
    n_pos, scores, outcomes = {}, {}, {}
    for pred_bbox, pred_label, pred_score, gt_bbox, gt_label, gt_difficult in zip(
            pred_bboxes, pred_labels, pred_scores, gt_bboxes, gt_labels, gt_difficults,
            strict=True):
        gt_difficult = np.asarray(gt_difficult, dtype=bool)
        for l in np.unique(np.concatenate((pred_label, gt_label)).astype(int)):
            mine = pred_label == l
            order = np.argsort(-pred_score[mine], kind='stable')
            gt_mine = gt_label == l
            n_pos[l] = n_pos.get(l, 0) + int((~gt_difficult[gt_mine]).sum())
            scores.setdefault(l, []).append(pred_score[mine][order])
            outcomes.setdefault(l, []).append(_match_image(
                pred_bbox[mine][order], gt_bbox[gt_mine], gt_difficult[gt_mine], iou_thresh))
    n_class = max(n_pos) + 1 if n_pos else 0
    prec, rec = [None] * n_class, [None] * n_class
    for l in n_pos:
        score = np.concatenate(scores[l])
        outcome = np.concatenate(outcomes[l])[np.argsort(-score, kind='stable')]
        tp, fp = np.cumsum(outcome == TP), np.cumsum(outcome == FP)
        with np.errstate(invalid='ignore'):  # 0/0 where only ignored so far
            prec[l] = tp / (tp + fp)
        rec[l] = tp / n_pos[l] if n_pos[l] > 0 else None
    return prec, rec


def average_precision(prec, rec, use_07_metric=False):
    """AP per class from :func:`precision_recall`'s lists; nan where either is None.

    VOC07: mean over recall thresholds 0, 0.1, ..., 1 of the best precision
    at recall >= the threshold (0 if none). Otherwise the area under the
    precision envelope.
    """
    ap = np.full(len(prec), np.nan)
    for l, (p, r) in enumerate(zip(prec, rec, strict=True)):
        if p is None or r is None:
            continue
        p = np.nan_to_num(p)
        if use_07_metric:
            ap[l] = sum(p[r >= t].max() if (r >= t).any() else 0
                        for t in np.arange(0., 1.1, 0.1)) / 11
        else:
            # precision envelope: the best precision at this recall or beyond
            envelope = np.maximum.accumulate(np.concatenate(([0], p, [0]))[::-1])[::-1]
            recall = np.concatenate(([0], r, [1]))
            step = np.flatnonzero(recall[1:] != recall[:-1])
            ap[l] = np.sum((recall[step + 1] - recall[step]) * envelope[step + 1])
    return ap


def eval_detection_voc(pred_bboxes, pred_labels, pred_scores, gt_bboxes, gt_labels,
                       gt_difficults=None, iou_thresh=0.5, use_07_metric=False):
    """{'ap': float64 (n_class,) AP per class (nan: not evaluable), 'map':
    their nanmean}; arguments as :func:`precision_recall`."""
    prec, rec = precision_recall(pred_bboxes, pred_labels, pred_scores, gt_bboxes,
                                 gt_labels, gt_difficults, iou_thresh)
    ap = average_precision(prec, rec, use_07_metric)
    return {'ap': ap, 'map': float(np.nanmean(ap)) if np.isfinite(ap).any() else float('nan')}
