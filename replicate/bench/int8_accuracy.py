"""What int8 changes in a detector's outputs, against its float32 reference:
the raw outputs' error and an agreement table of confident detections.

Shared by ``tools/int8_trained.py`` (the small SSD trained on the generated
shapes) and ``tools/int8_packaged.py`` (the trained detectors that packages
ship). Detections are ``(bboxes, labels, scores)``: lists with one entry per
image, float32 (R, 4) boxes ``(y_min, x_min, y_max, x_max)`` (any one unit
for both sides), int (R,) labels, float32 (R,) scores.
"""
import numpy as np

from replicate.ssd.boxes import bbox_iou

#: Detections compared in the agreement columns: score >= this (confident ones).
AGREEMENT_SCORE = 0.3
#: Same label and IoU >= this: the same detection.
AGREEMENT_IOU = 0.5
#: Column names of :func:`agreement`'s result, in its order.
AGREEMENT_COLUMNS = ('detections_ref', 'detections_path', 'matched', 'mean_iou_matched',
                     'mean_abs_score_diff')


def agreement(ref, got, score=AGREEMENT_SCORE, min_iou=AGREEMENT_IOU):
    """How the confident detections of ``got`` match those of ``ref``.

    Within each image and label, the reference's detections with score >=
    ``score`` are taken by descending score (ties: first listed), and each
    takes the unmatched detection of ``got`` (score >= ``score``, same label)
    of highest IoU, when that IoU is >= ``min_iou``.

    Returns:
        tuple of :data:`AGREEMENT_COLUMNS`: reference count, ``got`` count,
        matched pairs, mean IoU of the pairs, mean |score difference| of the
        pairs (the last two ``'-'`` when nothing matched).
    """
    counts, ious, diffs = [0, 0], [], []
    for rb, rl, rs, gb, gl, gs in zip(*ref, *got, strict=True):
        r, g = rs >= score, gs >= score
        rb, rl, rs, gb, gl, gs = rb[r], rl[r], rs[r], gb[g], gl[g], gs[g]
        counts[0] += len(rl)
        counts[1] += len(gl)
        for label in np.intersect1d(rl, gl):
            i, j = np.flatnonzero(rl == label), np.flatnonzero(gl == label)
            overlap = bbox_iou(rb[i], gb[j])
            free = np.ones(len(j), bool)
            for k in np.argsort(-rs[i], kind='stable'):
                candidates = np.flatnonzero(free & (overlap[k] >= min_iou))
                if len(candidates):
                    best = candidates[np.argmax(overlap[k, candidates])]
                    free[best] = False
                    ious.append(overlap[k, best])
                    diffs.append(abs(float(rs[i][k]) - float(gs[j][best])))
    return (counts[0], counts[1], len(ious), float(np.mean(ious)) if ious else '-',
            float(np.mean(diffs)) if diffs else '-')


def raw_errors(ref, got):
    """Error of a path's raw network outputs against the reference's.

    Args:
        ref, got: lists (one entry per call) of the two outputs (arrays of
            equal shapes between ``ref`` and ``got``).

    Returns:
        ``(max |diff| / max |ref|, RMS diff / RMS ref)``, each the worse of
        the two outputs.
    """
    worst_max = worst_rms = 0.0
    for output in range(2):
        a = np.concatenate([np.asarray(r[output]).reshape(-1) for r in ref])
        b = np.concatenate([np.asarray(g[output]).reshape(-1) for g in got])
        worst_max = max(worst_max, float(np.abs(a - b).max() / np.abs(a).max()))
        worst_rms = max(worst_rms, float(np.sqrt(np.mean((a - b) ** 2) / np.mean(a ** 2))))
    return worst_max, worst_rms
